"""Court financial-dispute mediation (和合金融): disputes, preservation (活封), sessions, settlements, repayment and enforcement.

Registered through the `qinqing.plugins` entry point; a tenant sees it only if it enabled it.
Pages under ``/t/<slug>/mediation/``, JSON API under ``/t/<slug>/api/v1/mediation/``, a court
dashboard widget, a daily repayment sweep and demo disputes for the demo tenants.
"""

from core.sdk import (
    N_,
    CaseAction,
    NavItem,
    PluginInfo,
    RoleDef,
    ScheduledJob,
    SettingDef,
    Widget,
    hookimpl,
    templates_of,
)

NAME = "mediation"
COURT = frozenset({"mediation.view", "mediation.manage"})


@hookimpl
def qinqing_plugin_info():
    return PluginInfo(NAME, N_("Financial dispute mediation"), N_("Loan disputes between banks and companies mediated instead of litigated: preservation that keeps assets in use, rescheduled repayment, enforcement only on real default."))


@hookimpl
def qinqing_routes():
    from plugins.mediation.pages import MediationPages

    return [MediationPages]


@hookimpl
def qinqing_api_routes():
    from plugins.mediation.api import MediationApi

    return [MediationApi]


@hookimpl
def qinqing_navigation(tenant, user):
    if tenant.kind != "court":  # a district refers cases to the court(s) serving it
        return [NavItem(N_("Court referrals"), f"{NAME}/", permission="case.dispatch", order=50)]
    return [NavItem(N_("Mediation"), f"{NAME}/", order=50)]


async def _referable(case) -> bool:
    from plugins.mediation.referrals import referable

    return await referable(case)


@hookimpl
def qinqing_case_actions(tenant, user, case):
    if tenant.kind == "court":  # a district refers its cases; a court has none to refer
        return []
    return [CaseAction("mediation.refer", N_("Refer to court mediation"), f"{NAME}/refer?case={case.id}",
                       permission="case.dispatch", shown=_referable, order=50)]


@hookimpl
def qinqing_roles():
    court = frozenset({"court"})  # a court's own staff and outside users: no district has these roles
    return [
        RoleDef("mediation_judge", N_("Judge"), COURT | {"mediation.mediate", "mediation.judge"}, court),
        RoleDef("mediation_court", N_("Court staff"), COURT, court),  # the court clerk (书记员)
        RoleDef("mediation_mediator", N_("Mediator"), COURT | {"mediation.mediate"}, court),
        RoleDef("mediation_bank", N_("Creditor (bank)"), frozenset({"mediation.view_own"}), court),
    ]


@hookimpl
def qinqing_piccolo_apps():
    return [f"plugins.{NAME}.piccolo_app"]


@hookimpl
def qinqing_template_dirs():
    return [templates_of(__file__)]


async def _figures(tenant, user) -> dict:
    from plugins.mediation.queries import figures

    return await figures()


async def _desk(tenant, user) -> dict:
    from plugins.mediation.queries import desk

    return await desk()


@hookimpl
def qinqing_dashboard_widgets(tenant, user):
    if tenant.kind != "court":  # a district follows its referrals on its referrals page
        return []
    return [Widget("mediation_desk", N_("Court desk"), "mediation/_desk.html", _desk, permission="mediation.view",
                   order=30),
            Widget("mediation", N_("Court mediation"), "mediation/_widget.html", _figures,
                   permission="mediation.view", order=40)]


@hookimpl
def qinqing_tenant_settings():
    return [SettingDef("mediation_grace_days", N_("Grace period after a missed instalment before default (days)"),
                       int, 15),
            SettingDef("mediation_notice_days", N_("Days before an instalment's due date to remind the parties"),
                       int, 3)]


async def _sweep() -> None:
    from plugins.mediation.repayment import sweep

    await sweep()


@hookimpl
def qinqing_scheduled_jobs():
    # Hourly, and idempotent: the court's day (Asia/Shanghai) is swept within the hour it begins.
    return [ScheduledJob("mediation_repayment", 3600, _sweep, per_tenant=True)]


@hookimpl(trylast=True)  # after the core's demo data, which holds the company registry
def qinqing_demo_data(tenant):
    from plugins.mediation.demo import load_demo

    return [load_demo]


@hookimpl
def qinqing_event_labels():
    from plugins.mediation.referrals import EVENT_LABELS

    return {"mediation_referral": N_("Referred to court mediation"), "mediation": N_("A step of the court mediation"),
            **EVENT_LABELS}


@hookimpl
def qinqing_actors():
    from plugins.mediation.referrals import receive

    return [receive]


@hookimpl
def qinqing_work_queue(tenant, user):
    from plugins.mediation.queue import queues

    return queues(user)


def _register_commands(subparsers) -> None:
    from plugins.mediation.sweeping import register

    register(subparsers)


@hookimpl
def qinqing_commands():
    return [_register_commands]
