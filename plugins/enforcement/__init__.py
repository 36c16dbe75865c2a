"""Inclusive, prudent enforcement (包容审慎柔性执法).

Registered through the `qinqing.plugins` entry point; a tenant sees it only if it enabled it.
Departments register their inspections of companies (涉企检查) before they happen; a company
inspected again within the tenant's window is proposed a joint inspection (综合查一次); the
tenant's lists (首违不罚 · 从轻减轻 · 不予强制) govern each finding's outcome; a penalty where a
no-penalty item applies to a first violation needs the department head's sign-off; a company
sees the inspections announced for it and may contest an outcome, which opens a core case.
"""

from core.sdk import N_, NavItem, PluginInfo, RoleDef, ScheduledJob, SettingDef, Widget, hookimpl, templates_of

NAME = "enforcement"


@hookimpl
def qinqing_plugin_info():
    return PluginInfo(NAME, N_("Inclusive enforcement"), N_("Inspections of companies registered before they happen, joint inspections instead of repeated ones, the lists of violations not penalised or penalised lightly, and outcomes a company may contest."))


@hookimpl
def qinqing_piccolo_apps():
    return [f"plugins.{NAME}.piccolo_app"]


@hookimpl
def qinqing_template_dirs():
    return [templates_of(__file__)]


@hookimpl
def qinqing_routes():
    from plugins.enforcement.pages import EnforcementPages

    return [EnforcementPages]


@hookimpl
def qinqing_api_routes():
    from plugins.enforcement.api import EnforcementApi

    return [EnforcementApi]


@hookimpl
def qinqing_navigation(tenant, user):
    return [
        NavItem(N_("Inspections of companies"), f"{NAME}/", permission="enforcement.view", order=65, icon="clipboard-check"),
        NavItem(N_("Enforcement sign-offs"), f"{NAME}/", permission="signoff.view", order=65, icon="shield-check"),
        NavItem(N_("Inspections of my company"), f"{NAME}/", permission="portal.view", order=65,
                icon="clipboard-check"),
        NavItem(N_("Enforcement lists"), f"{NAME}/lists", permission="tenant.admin", order=66, icon="journal-text"),
        NavItem(N_("Enforcement figures"), f"{NAME}/figures", permission="screen.view", order=67, icon="graph-up"),
    ]


@hookimpl
def qinqing_roles():
    return [RoleDef("enforcement_officer", N_("Enforcement officer"),
                    frozenset({"enforcement.view", "enforcement.inspect"}))]


@hookimpl
def qinqing_tenant_settings():
    return [
        SettingDef("enforcement_window_days",
                   N_("Enforcement: warn of another inspection of the same company within this many days"), int, 30),
        SettingDef("enforcement_contest_category",
                   N_("Enforcement: category of the case a contested outcome opens (code)"), str, ""),
    ]


async def _widget(tenant, user):
    from plugins.enforcement.views import widget

    return await widget()


@hookimpl
def qinqing_dashboard_widgets(tenant, user):
    return [Widget("enforcement", N_("Inclusive enforcement"), "enforcement/widget.html", _widget,
                   permission="screen.view", order=65)]


async def _screen(tenant, user):
    from plugins.enforcement.screen import screen_figures

    return await screen_figures(tenant, user)


@hookimpl
def qinqing_screen_widgets(tenant):
    """首违不罚 and 从轻减轻 counts, this year's inspections and the outcomes, on the big screen (大屏)."""
    return [Widget("enforcement", N_("Inclusive enforcement"), "enforcement/_screen.html", _screen, order=50)]


async def _remind() -> None:
    from plugins.enforcement.inspections import remind_tomorrow

    await remind_tomorrow()


@hookimpl
def qinqing_scheduled_jobs():
    return [ScheduledJob("enforcement_inspection_reminders", 86400, _remind, per_tenant=True)]


@hookimpl
def qinqing_event_labels():
    return {"enforcement_contest": N_("Contested an enforcement outcome")}


@hookimpl
def qinqing_demo_data(tenant):
    from plugins.enforcement.demo import load_demo

    return [load_demo]
