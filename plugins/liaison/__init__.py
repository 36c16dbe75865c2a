"""The township liaison network (助企员 · 企业联络员 · 村社助跑员 · 百晓长).

Registered through the `qinqing.plugins` entry point; a tenant sees it only if it enabled it.
Each company is paired with one cadre assistant (机关助企员) who carries its needs through the
departments as core cases filed on its behalf; visits with follow-ups (reminded when overdue by a
daily job), training salons; village runners who log needs met in the village and hand them on
(`village`), industry leads and their teams who answer consultations by field (`consult`), and the
company liaison who receives the assistant's visits and messages (`inbox`).
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
    Widget,
    hookimpl,
    templates_of,
)

NAME = "liaison"


@hookimpl
def qinqing_plugin_info():
    return PluginInfo(NAME, N_("Liaison network"), N_("Each company paired with a cadre assistant who carries its needs through the departments; village runners, industry leads, visits and training salons."))


@hookimpl
def qinqing_routes():
    from plugins.liaison.pages import LiaisonPages

    return [LiaisonPages]


@hookimpl
def qinqing_api_routes():
    from plugins.liaison.api import LiaisonApi

    return [LiaisonApi]


@hookimpl
def qinqing_navigation(tenant, user):
    return [
        NavItem(N_("Liaison"), f"{NAME}/", permission="liaison.view", order=60),
        NavItem(N_("My assistant"), f"{NAME}/", permission="portal.view", order=60),
        NavItem(N_("Liaison network"), f"{NAME}/network", permission="liaison.coordinate", order=61),
        NavItem(N_("Training salons"), f"{NAME}/salons", permission="liaison.view", order=62),
        NavItem(N_("Village needs"), f"{NAME}/village", permission="liaison.run", order=58),
        NavItem(N_("Consultations"), f"{NAME}/consultations", permission="liaison.view", order=59),
        NavItem(N_("Consultations"), f"{NAME}/consultations", permission="portal.view", order=59),
        NavItem(N_("Messages from your assistant"), f"{NAME}/inbox", permission="portal.view", order=59),
    ]


@hookimpl
def qinqing_roles():
    return [
        RoleDef("liaison_assistant", N_("Cadre assistant"),
                frozenset({"liaison.view", "liaison.assist", "case.submit_on_behalf"})),
        RoleDef("liaison_runner", N_("Village runner"),
                frozenset({"liaison.view", "liaison.run", "case.submit_on_behalf"})),
        RoleDef("liaison_lead", N_("Industry lead"), frozenset({"liaison.view", "liaison.lead"})),
        RoleDef("liaison_coordinator", N_("Township coordinator"),
                frozenset({"liaison.view", "liaison.coordinate", "case.submit_on_behalf"})),
    ]


@hookimpl
def qinqing_piccolo_apps():
    return [f"plugins.{NAME}.piccolo_app"]


@hookimpl
def qinqing_template_dirs():
    return [templates_of(__file__)]


async def _widget(tenant, user):
    from plugins.liaison.views import widget

    return await widget(tenant, user)


@hookimpl
def qinqing_dashboard_widgets(tenant, user):
    return [Widget("liaison_summary", N_("Liaison network"), "liaison/widget.html", _widget,
                   permission="liaison.view", order=60)]


async def _remind() -> None:
    from plugins.liaison.work import remind_overdue

    await remind_overdue()


@hookimpl
def qinqing_scheduled_jobs():
    return [ScheduledJob("liaison_follow_up_reminders", 86400, _remind, per_tenant=True)]


@hookimpl
def qinqing_actors():
    from plugins.liaison.pairing_import import ACTORS

    return ACTORS


@hookimpl
def qinqing_case_event(tenant: TenantContext, event: CaseEvent):
    """A case filed on a company's behalf by an assistant must be for a company paired with them:
    the check runs in the submission's transaction and refuses it (see `access.check_filing`)."""
    if event.action != "submit" or not event.data.get("on_behalf") or event.actor_id is None:
        return None
    from plugins.liaison.access import check_filing

    return check_filing(tenant, event.case_id, event.actor_id)


@hookimpl
def qinqing_tenant_settings():
    return [SettingDef("liaison_unvisited_days", N_("Liaison: flag companies not visited in this many days"), int, 30),
            SettingDef("liaison_consultation_days", N_("Liaison: working days an expert has to answer a consultation"),
                       int, 3),
            SettingDef("liaison_consultation_fields",
                       N_("Liaison: the tenant's own consultation fields, comma-separated (besides investment, "
                          "set-up, incubation and talent)"), str, "")]


@hookimpl
def qinqing_demo_data(tenant):
    from plugins.liaison.demo import load_demo, load_roles_demo

    return [load_demo, load_roles_demo]


@hookimpl
def qinqing_work_queue(tenant, user):
    from plugins.liaison.queue import queues

    return queues(user)
