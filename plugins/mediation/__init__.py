"""Court financial-dispute mediation (和合金融): disputes, preservation (活封), sessions, settlements, repayment and enforcement.

Registered through the `qinqing.plugins` entry point; a tenant sees it only if it enabled it.
"""

from core.contrib import NavItem, PluginInfo, RoleDef
from core.hookspecs import hookimpl
from core.i18n import N_
from core.plugin_kit import landing_page, templates_of

NAME = "mediation"


@hookimpl
def qinqing_plugin_info():
    return PluginInfo(NAME, N_("Financial dispute mediation"), N_("Loan disputes between banks and companies mediated instead of litigated: preservation that keeps assets in use, rescheduled repayment, enforcement only on real default."))


@hookimpl
def qinqing_routes():
    return [landing_page(NAME)]


@hookimpl
def qinqing_navigation(tenant, user):
    return [NavItem(N_("Mediation"), f"{NAME}/", order=50)]


@hookimpl
def qinqing_roles():
    return [
        RoleDef("mediation_court", N_("Court staff"), frozenset({"mediation.view", "mediation.manage"})),
        RoleDef("mediation_mediator", N_("Mediator"), frozenset({"mediation.view", "mediation.mediate"})),
        RoleDef("mediation_bank", N_("Creditor (bank)"), frozenset({"mediation.view_own"})),
    ]


@hookimpl
def qinqing_piccolo_apps():
    return [f"plugins.{NAME}.piccolo_app"]


@hookimpl
def qinqing_template_dirs():
    return [templates_of(__file__)]
