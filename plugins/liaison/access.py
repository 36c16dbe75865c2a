"""Who sees what in the liaison network.

A coordinator (``liaison.coordinate``) sees every company; an assistant only the companies paired
with them; a company user only its own company (and so only its own assistant and records).
Anything else answers 404, so another assistant's companies are not even revealed to exist.
Filing a case on a company's behalf follows the same line: an assistant files only for the
companies paired with them, a coordinator (or a dispatcher) for any.
"""

from __future__ import annotations

from core.sdk import (
    Case,
    Company,
    Membership,
    TenantContext,
    UserError,
    company_ids_of,
    enabled_roles,
    members_with_role,
    scoped,
)
from plugins.liaison.tables import Pairing

ASSISTANT = "liaison_assistant"


def is_coordinator(user) -> bool:
    return user.can("liaison.coordinate")


async def visible_company_ids(user) -> list[int] | None:
    """The companies `user` may see here (None: all of the tenant's)."""
    if is_coordinator(user):
        return None
    ids: set[int] = set()
    if user.can("liaison.assist"):
        rows = await scoped(Pairing).select(Pairing.company).where(Pairing.assistant == user.id)
        ids |= {r["company"] for r in rows}
    if user.has_role("company"):
        ids |= set(await company_ids_of(user.id))
    return sorted(ids)


async def visible_company(user, company_id: int) -> Company:
    allowed = await visible_company_ids(user)
    company = await scoped(Company).objects().where(Company.id == company_id).first()
    if company is None or (allowed is not None and company_id not in allowed):
        raise UserError(404, "Not found.")
    return company


async def assistant_of(company_id: int) -> int | None:
    row = await scoped(Pairing).select(Pairing.assistant).where(Pairing.company == company_id).first()
    return row["assistant"] if row else None


async def is_assistant(user_id: int) -> bool:
    return user_id in await members_with_role(ASSISTANT)


async def require_assistant_of(user, company_id: int) -> None:
    """Only the company's own assistant acts for it (a coordinator may too)."""
    if is_coordinator(user) and user.can("case.submit_on_behalf"):
        return
    if not user.can("liaison.assist") or await assistant_of(company_id) != user.id:
        raise UserError(403, "Only the company's own assistant can do this.")


def _files_for_any(tenant: TenantContext, roles: set[str]) -> bool:
    """Whether one of `roles`, besides the assistant's, files for any company (a dispatcher's) or
    coordinates the network; only roles of the modules the tenant enabled count."""
    enabled = enabled_roles(tenant)
    for key in roles - {ASSISTANT}:
        role = enabled.get(key)
        if role and {"case.submit_on_behalf", "liaison.coordinate"} & role.permissions:
            return True
    return False


async def check_filing(tenant: TenantContext, case_id: int, actor_id: int) -> None:
    """Refuse a case an assistant filed for a company not paired with them, as core refuses an
    unknown company (400, the code typed and no name), so neither the name nor the existence of
    another assistant's company is revealed; the request's transaction then stores nothing."""
    rows = await scoped(Membership).select(Membership.role).where(Membership.user == actor_id)
    roles = {r["role"] for r in rows}
    if ASSISTANT not in roles or _files_for_any(tenant, roles):
        return
    case = await scoped(Case).select(Case.company, Case.company.credit_code.as_alias("credit_code")).where(
        Case.id == case_id).first()
    if case is None or case["company"] is None or await assistant_of(case["company"]) == actor_id:
        return
    raise UserError(400, "Unknown company: %(credit_code)s.", code="unknown_company",
                    credit_code=case["credit_code"])
