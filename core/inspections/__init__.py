"""The seven must-investigate items (七必查) and discipline inspections (纪检核查).

A core default plugin (always on) built on the plugin contract only: its tables and migrations,
its pages under ``/t/<slug>/inspections/`` and JSON API under ``/t/<slug>/api/v1/inspections/``,
navigation, an actor that runs the rules after case events (queued through the outbox inside the
event's transaction) and a nightly job that runs every rule over every active tenant.  A district
may grant its inspectors its townships' inspections, read-only (`inspections_townships`).
"""

from pathlib import Path

from core.cases.states import SIGN_LEVELS
from core.contrib import NavItem, PluginInfo, ScheduledJob, SettingDef
from core.hookspecs import hookimpl
from core.i18n import N_
from core.scope import current_tenant, tenant_scope

NAME = "inspections"
# Events after which a rule may find something on the case (the nightly job catches the rest).
TRIGGERS = {"rule", "escalate", "decide-extension", "decide-objection", "reopen"}


@hookimpl
def qinqing_plugin_info():
    return PluginInfo(NAME, N_("Inspections"),
                      N_("The seven must-investigate rules and the discipline inspections they open."),
                      optional=False)


@hookimpl
def qinqing_piccolo_apps():
    return ["core.inspections.piccolo_app"]


@hookimpl
def qinqing_template_dirs():
    return [Path(__file__).resolve().parent / "templates"]


@hookimpl
def qinqing_routes():
    from core.inspections.pages import InspectionPages

    return [InspectionPages]


@hookimpl
def qinqing_api_routes():
    from core.inspections.api import InspectionApi

    return [InspectionApi]


@hookimpl
def qinqing_navigation(tenant, user):
    return [
        NavItem(N_("Inspections"), f"{NAME}/", permission="inspection.view", order=16, group="oversight",
                icon="clipboard-check"),
        NavItem(N_("Report misconduct"), f"{NAME}/report", permission="portal.view", order=17, group="work",
                icon="megaphone"),
        NavItem(N_("Inspection rules"), f"{NAME}/rules", permission="inspection.rules", order=22, group="admin",
                icon="shield-check"),
        *([NavItem(N_("Townships' inspections"), f"{NAME}/townships", permission="inspection.view", order=16,
                   group="oversight", icon="clipboard-check")] if tenant is not None and tenant.kind == "district" else []),
    ]


def worth_evaluating(event) -> bool:
    """Whether a case event can make a rule find something now."""
    if event.action == "sign":
        return event.data.get("level") == SIGN_LEVELS[-1]  # the refusal reached the company
    if event.action == "rate":
        return event.data.get("rating") == "unsatisfied"
    return event.action in TRIGGERS


@hookimpl
def qinqing_case_event(tenant, event):
    """Queue the rules for this case; the caller awaits the write inside its own transaction."""
    if not worth_evaluating(event):
        return None
    from core.outbox import enqueue

    return enqueue("inspections_evaluate", tenant_id=tenant.id, case_id=event.case_id)


@hookimpl
def qinqing_actors():
    from core.inspections.service import inspections_evaluate

    return [inspections_evaluate]


NIGHTLY_STEP = 100  # findings opened per write transaction by the nightly run


async def _nightly() -> None:
    """Every rule over the tenant (the safety net behind the event-driven runs): the rules read in
    one read-only scope, the findings open a hundred per write, so writers wait seconds, not minutes."""
    from core.inspections.service import findings, open_findings

    tenant = current_tenant()
    async with tenant_scope(tenant, write=False):
        found = await findings()
    for start in range(0, len(found), NIGHTLY_STEP):
        async with tenant_scope(tenant):
            await open_findings(found[start:start + NIGHTLY_STEP])


@hookimpl
def qinqing_scheduled_jobs():
    return [ScheduledJob("inspections_nightly", 86400, _nightly, per_tenant=True, in_steps=True)]


@hookimpl
def qinqing_tenant_settings():
    # A district's grant to its inspectors: read its townships' inspections (core.inspections.townships).
    return [SettingDef("inspections_townships", N_("District inspectors read the townships' inspections"), bool,
                       False)]


@hookimpl
def qinqing_event_labels():
    from core.inspections.service import EVENT_ACTION

    return {EVENT_ACTION: N_("inspection")}


@hookimpl
def qinqing_work_queue(tenant, user):
    """The inspector's open inspections: to investigate, and under investigation."""
    if not user.can("inspection.handle"):
        return []
    from core.contrib import WorkQueue
    from core.inspections.api import list_inspections

    def counter(status: str):
        async def count() -> int:
            return (await list_inspections(status, "", 1, 1))[1]

        return count

    return [WorkQueue("inspections.open", N_("Inspections to investigate"), f"{NAME}/?status=open", counter("open"),
                      order=40, hint=N_("A must-investigate rule opens an inspection here when a case meets it.")),
            WorkQueue("inspections.investigating", N_("Inspections under investigation"),
                      f"{NAME}/?status=investigating", counter("investigating"), order=41,
                      hint=N_("Inspections you started and have not concluded yet."))]
