"""Project approval service (项目帮办): projects through their stages with a helper (帮办员),
the approval catalogue (事项清单), acceptance with materials missing (容缺办理), one-thing
bundles (一件事 · 准入即准营) and the government chasing itself (被催着办).

Registered through the `qinqing.plugins` entry point; a tenant sees it only if it enabled it.
"""

from core.sdk import N_, NavItem, PluginInfo, RoleDef, ScheduledJob, SettingDef, Widget, hookimpl, templates_of

NAME = "approvals"
DEFAULT_STAGES = "intent,signing,land,approval,construction,production"


@hookimpl
def qinqing_plugin_info():
    return PluginInfo(NAME, N_("Project approvals"), N_("Investment projects through their stages with a helper; the approval catalogue, acceptance with materials missing, one-thing bundles, and the government chasing its own next steps."))


@hookimpl
def qinqing_routes():
    from plugins.approvals.pages import ApprovalPages

    return [ApprovalPages]


@hookimpl
def qinqing_api_routes():
    from plugins.approvals.api import ApprovalApi

    return [ApprovalApi]


@hookimpl
def qinqing_navigation(tenant, user):
    return [
        NavItem(N_("Project approvals"), f"{NAME}/", permission="approvals.view", order=80, icon="clipboard-check"),
        NavItem(N_("Approval catalogue"), f"{NAME}/catalogue", permission="approvals.view", order=81),
        NavItem(N_("One-thing bundles"), f"{NAME}/bundles", permission="approvals.view", order=82),
        NavItem(N_("My projects"), f"{NAME}/", permission="portal.view", order=80, icon="clipboard-check"),
    ]


@hookimpl
def qinqing_roles():
    return [
        RoleDef("approvals_coordinator", N_("Project service coordinator"),
                frozenset({"approvals.view", "approvals.manage", "approvals.help", "case.submit_on_behalf"})),
        RoleDef("approvals_helper", N_("Project helper"),
                frozenset({"approvals.view", "approvals.help", "case.submit_on_behalf"})),
        RoleDef("approvals_officer", N_("Approval officer"), frozenset({"approvals.view", "approvals.decide"})),
    ]


@hookimpl
def qinqing_piccolo_apps():
    return [f"plugins.{NAME}.piccolo_app"]


@hookimpl
def qinqing_template_dirs():
    return [templates_of(__file__)]


@hookimpl
def qinqing_tenant_settings():
    return [
        SettingDef("approvals_stages", N_("Project approvals: the stages of a project, in order (comma-separated)"),
                   str, DEFAULT_STAGES),
        SettingDef("approvals_case_category", N_("Project approvals: the case category of a stuck approval"),
                   str, ""),
    ]


@hookimpl
def qinqing_event_labels():
    return {"approvals_case": N_("Stuck approval turned into this case")}


async def _widget(tenant, user):
    from plugins.approvals.figures import widget

    return await widget()


@hookimpl
def qinqing_dashboard_widgets(tenant, user):
    """The module's figures for its staff and for whoever watches the big screen (screen.view)."""
    if user is None or not (user.can("approvals.view") or user.can("screen.view")):
        return []
    return [Widget("approvals", N_("Project approvals"), "approvals/widget.html", _widget, order=80)]


async def _screen(tenant, user):
    from plugins.approvals.screen import screen_figures

    return await screen_figures(tenant, user)


@hookimpl
def qinqing_screen_widgets(tenant):
    """The reform in figures and the projects by stage, on the big screen (大屏)."""
    return [Widget("approvals", N_("Project approvals"), "approvals/_screen.html", _screen, order=40)]


async def _daily() -> None:
    from plugins.approvals.chase import run_daily

    await run_daily()


@hookimpl
def qinqing_scheduled_jobs():
    return [ScheduledJob("approvals_daily_chase", 86400, _daily, per_tenant=True)]


@hookimpl
def qinqing_demo_data(tenant):
    from plugins.approvals.demo import load_demo

    return [load_demo]
