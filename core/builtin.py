"""The core's own contributions, made through the same hooks as any plugin."""

from pathlib import Path

from core.contrib import NavItem, PluginInfo
from core.hookspecs import hookimpl
from core.i18n import N_
from core.roles import CORE_ROLES


@hookimpl
def qinqing_plugin_info():
    return PluginInfo(name="core", title=N_("Cases and accountability"), optional=False)


@hookimpl
def qinqing_roles():
    return CORE_ROLES


@hookimpl
def qinqing_navigation(tenant, user):
    if tenant is not None and tenant.kind == "city":  # a city reads its districts' figures, nothing else
        from core.oversight.city_menu import city_navigation

        return city_navigation()
    return [
        NavItem(N_("My work"), "", order=0, group="work", icon="house"),
        NavItem(N_("Dispatch console"), "cases/", permission="console.view", order=10, group="work", icon="inbox"),
        NavItem(N_("My cases"), "cases/", permission="portal.view", order=11, group="work", icon="inbox"),
        NavItem(N_("Workbench"), "cases/?mine=1", permission="workbench.view", order=12, group="work",
                icon="briefcase"),
        NavItem(N_("Sign-off inbox"), "signoffs/", permission="signoff.view", order=13, group="work", icon="pen"),
        NavItem(N_("Review docket"), "reviews/", permission="review.rule", order=14, group="work", icon="people"),
        NavItem(N_("Big screen"), "screen/", permission="screen.view", order=15, group="oversight", icon="display"),
        NavItem(N_("Qinqing index"), "index/", permission="screen.view", order=16, group="oversight",
                icon="graph-up"),
        NavItem(N_("Common problems"), "policies/", permission="policy.manage", order=17, group="oversight",
                icon="lightbulb"),
        NavItem(N_("Advances"), "advances/", permission="advance.manage", order=18, group="oversight", icon="bank"),
        NavItem(N_("Companies"), "companies/", permission="company.manage", order=20, group="admin", icon="building"),
        NavItem(N_("Catalogue"), "admin/catalogue/", permission="tenant.admin", order=21, group="admin",
                icon="journal-text"),
        NavItem(N_("Notifications"), "notifications/", order=90, group="account", icon="bell"),
    ]


@hookimpl
def qinqing_piccolo_apps():
    return ["core.workdays.piccolo_app", "core.oversight.piccolo_app"]


@hookimpl
def qinqing_template_dirs():
    return [Path(__file__).resolve().parent / "templates"]


@hookimpl
def qinqing_actors():
    from core import notifications
    from core.cases import company_jobs, redispatch
    from core.oversight import policies

    return notifications.ACTORS + company_jobs.ACTORS + policies.ACTORS + redispatch.ACTORS


@hookimpl
def qinqing_scheduled_jobs():
    from core import schedule

    return schedule.JOBS


@hookimpl
def qinqing_demo_data(tenant):
    from core.cases.demo import load_demo_cases

    if tenant.kind in ("court", "city"):  # a court files no cases (its demo disputes are the mediation
        return []  # module's), nor does a city (it reads its districts)
    return [load_demo_cases]


@hookimpl
def qinqing_tenant_settings():
    from core.contrib import SettingDef

    return [SettingDef("escalate_after_overdue_days", N_("Escalate cases overdue by this many working days"), int, 2),
            SettingDef("demo_cases", N_("Number of demo cases"), int, 200),
            SettingDef("red_flag_refusal_rate", N_("Red flag: refusal rate at least"), float, 0.3),
            SettingDef("red_flag_satisfaction_rate", N_("Red flag: with satisfaction at least"), float, 0.95),
            SettingDef("red_flag_overturn_rate", N_("Red flag: refusals overturned at least"), float, 0.5),
            SettingDef("red_flag_min_cases", N_("Red flag: only with at least this many cases"), int, 10),
            SettingDef("red_flag_handler_overdue", N_("Red flag: overdue cases of one handler"), int, 3),
            SettingDef("red_flag_window_days", N_("Red flag: over the cases submitted in the last this many days"),
                       int, 90),
            SettingDef("launched_on", N_("Launch date (YYYY-MM-DD): the trend since launch starts here"), str, ""),
            SettingDef("escalation_leader", N_("District leader for escalations (a username)"), str, "")]


@hookimpl
def qinqing_event_labels():
    from core.cases.states import ACTION_LABELS

    return ACTION_LABELS


@hookimpl
def qinqing_dashboard_widgets(tenant, user):
    from core.cases.widget import WIDGET

    return [WIDGET]


@hookimpl
def qinqing_work_queue(tenant, user):
    from core.cases.work_queue import core_queues

    if tenant is not None and tenant.kind == "city":
        from core.oversight.city_menu import city_queues

        return city_queues(tenant, user)
    return core_queues(user)
