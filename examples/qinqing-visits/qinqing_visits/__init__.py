"""走访记录 — a company visit log: an example of a plugin built only on ``core.sdk``.

Installed as a package of its own and found through its entry point (group ``qinqing.plugins``,
name ``visits``); a tenant sees it only if it enabled it (``plugins = ["visits"]`` in the
manifest, or ``qinqing tenant enable-plugin <slug> visits``).  It brings one table, a page under
``/t/<slug>/visits/``, a JSON API under ``/t/<slug>/api/v1/visits/``, a follow-up visit planned
when a case is resolved, and a nightly per-tenant job that flags follow-ups gone overdue.
"""

from core.sdk import (
    N_,
    CaseEvent,
    NavItem,
    PluginInfo,
    RoleDef,
    ScheduledJob,
    SettingDef,
    TenantContext,
    enqueue,
    hookimpl,
    templates_of,
)

NAME = "visits"


@hookimpl
def qinqing_plugin_info():
    return PluginInfo(NAME, N_("Company visits"), N_("Visits to companies, and a follow-up visit after each resolved case."))


@hookimpl
def qinqing_roles():
    return [RoleDef("visits_officer", N_("Visit officer"), frozenset({"visits.view", "visits.record"}))]


@hookimpl
def qinqing_navigation(tenant: TenantContext, user):
    return [NavItem(N_("Company visits"), f"{NAME}/", permission="visits.view", order=80, icon="journal-text")]


@hookimpl
def qinqing_piccolo_apps():
    return ["qinqing_visits.piccolo_app"]


@hookimpl
def qinqing_template_dirs():
    return [templates_of(__file__)]


@hookimpl
def qinqing_routes():
    from qinqing_visits.pages import VisitPages

    return [VisitPages]


@hookimpl
def qinqing_api_routes():
    from qinqing_visits.api import VisitApi

    return [VisitApi]


@hookimpl
def qinqing_case_event(tenant: TenantContext, event: CaseEvent):
    """A resolved case gets a follow-up visit (回访), planned by an actor after the step commits."""
    if event.action != "resolve":
        return None
    return enqueue("visits_plan_follow_up", case_id=event.case_id)


@hookimpl
def qinqing_actors():
    from qinqing_visits.service import plan_follow_up

    return [plan_follow_up]


@hookimpl
def qinqing_event_labels():
    return {"visits_follow_up": N_("Follow-up visit planned")}


async def _flag_overdue() -> None:
    from qinqing_visits.service import flag_overdue

    await flag_overdue()


@hookimpl
def qinqing_scheduled_jobs():
    return [ScheduledJob("visits_overdue", 86400, _flag_overdue, per_tenant=True)]


@hookimpl
def qinqing_tenant_settings():
    return [SettingDef("visits_follow_up_days", N_("Company visits: days after a resolution to visit again"), int, 14)]


@hookimpl(trylast=True)  # after the core's demo data, which holds the company registry
def qinqing_demo_data(tenant: TenantContext):
    from qinqing_visits.service import load_demo

    return [load_demo]
