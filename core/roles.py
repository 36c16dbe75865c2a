"""The core roles (角色) and their permissions."""

from core.contrib import RoleDef
from core.i18n import N_

P = frozenset

CORE_ROLES = [
    RoleDef("company", N_("Company"), P({"case.submit", "case.view_own", "case.rate", "portal.view"})),
    RoleDef("handler", N_("Handler (first responder)"), P({"case.view_dept", "case.handle", "workbench.view"})),
    RoleDef("section_head", N_("Section head"), P({"case.view_dept", "signoff.view", "workbench.view"})),
    RoleDef("leader", N_("Leader in charge"), P({"case.view_dept", "signoff.view", "extension.decide", "workbench.view",
                                                      "screen.view", "advance.manage"})),
    RoleDef("dept_head", N_("Department head"), P({"case.view_dept", "signoff.view", "workbench.view", "screen.view"})),
    RoleDef("dispatcher", N_("Dispatcher"), P({"case.view_all", "case.dispatch", "case.submit_on_behalf", "console.view",
                                                 "company.manage", "screen.view", "policy.manage", "advance.manage"})),
    RoleDef("reviewer", N_("Review panel"), P({"case.view_all", "review.rule", "screen.view"})),
    RoleDef("inspector", N_("Discipline inspector"), P({"case.view_all", "inspection.view", "inspection.handle",
                                                                  "screen.view"})),
    RoleDef("tenant_admin", N_("Tenant administrator"), P({"tenant.admin", "case.view_all", "console.view",
                                                          "company.manage", "screen.view", "inspection.rules",
                                                          "policy.manage", "advance.manage"})),
    # A city's (市): its districts' figures and league table, never a case, company or person of theirs.
    RoleDef("city_leader", N_("City leader"), P({"city.view", "screen.view"}), kinds=P({"city"})),
    RoleDef("system_admin", N_("System administrator"), P({"system.admin", "tenant.admin", "case.view_all",
                                                          "console.view", "company.manage", "screen.view"})),
]


OWN_ROLE_KINDS = ("court", "city")  # kinds with only their own roles and the administrators
COURT_CORE_ROLES = frozenset({"tenant_admin", "system_admin"})


def role_fits(key: str, kinds: frozenset[str], kind: str) -> bool:
    """Whether a tenant of `kind` has the role `key` declared for `kinds` (empty: every kind but a
    court or a city, which have only their own roles and the administrators)."""
    if kinds:
        return kind in kinds
    return kind not in OWN_ROLE_KINDS or key in COURT_CORE_ROLES
