"""Cadre evaluation and fault tolerance (专项考察 · 容错免责), for organization departments.

Registered through the `qinqing.plugins` entry point; a tenant sees it only if it enabled it.
Confidential: only organization-department roles (`cadre_org`, `cadre_evaluator`) see the module;
a cadre (`cadre`) sees their own file and their own fault-tolerance applications.  The one public
part is publicity (公示): decided exemptions and outcomes on the tenant's public page, where anyone
may lodge an objection (`plugins.cadre.publicity`).
"""

from core.sdk import N_, NavItem, PluginInfo, RoleDef, ScheduledJob, SettingDef, Widget, hookimpl, templates_of

NAME = "cadre"


@hookimpl
def qinqing_plugin_info():
    return PluginInfo(NAME, N_("Cadre evaluation"), N_("Special evaluations of cadres from their record on the platform, their outcomes, and fault tolerance for mistakes made in good faith."))


@hookimpl
def qinqing_routes():
    from plugins.cadre.pages import CadrePages
    from plugins.cadre.public import PublicityPages

    return [CadrePages, PublicityPages]


@hookimpl
def qinqing_api_routes():
    from plugins.cadre.api import CadreApi

    return [CadreApi]


@hookimpl
def qinqing_navigation(tenant, user):
    return [
        NavItem(N_("Cadre evaluation"), f"{NAME}/", permission="cadre.view", order=70),
        NavItem(N_("Fault tolerance"), f"{NAME}/applications", permission="cadre.view", order=71),
        NavItem(N_("Publicity objections"), f"{NAME}/objections", permission="cadre.manage", order=71),
        NavItem(N_("My cadre file"), f"{NAME}/", permission="cadre.self", order=72),
    ]


@hookimpl
def qinqing_roles():
    return [
        RoleDef("cadre_org", N_("Organization department"), frozenset({"cadre.view", "cadre.manage"})),
        RoleDef("cadre_evaluator", N_("Evaluator"), frozenset({"cadre.view", "cadre.evaluate"})),
        RoleDef("cadre", N_("Cadre (own file)"), frozenset({"cadre.self"})),
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
        SettingDef("cadre_publicity_days", N_("Publicity period in working days"), int, 5),
        SettingDef("cadre_publicize_outcomes", N_("Cadre evaluation: outcomes published before they take effect (comma-separated)"),
                   str, "promoted,rank,honours"),
        SettingDef("cadre_score_criteria", N_("Cadre evaluation: scoring criteria (comma-separated)"), str,
                   "service,efficiency,integrity,initiative"),
        SettingDef("cadre_tolerance_criteria", N_("Fault tolerance: criteria required for an exemption"), str,
                   "lawful,reform,diligent,no_benefit,procedure,corrected"),
    ]


async def _widget(tenant, user):
    from plugins.cadre.views import widget_figures

    return await widget_figures()


@hookimpl
def qinqing_dashboard_widgets(tenant, user):
    return [Widget("cadre", N_("Cadre evaluation (confidential)"), "cadre/widget.html", _widget,
                   permission="cadre.manage", order=70)]


@hookimpl
def qinqing_demo_data(tenant):
    from plugins.cadre.demo import load_demo

    return [load_demo]


@hookimpl
def qinqing_work_queue(tenant, user):
    from plugins.cadre.queue import queues

    return queues(user)


@hookimpl
def qinqing_scheduled_jobs():
    from plugins.cadre.publicity import settle_due

    return [ScheduledJob("cadre_publicity_end", 3600, settle_due, per_tenant=True)]


async def _public_publicity(tenant, user):
    from plugins.cadre.public import PUBLIC_LABELS
    from plugins.cadre.publicity import on_show

    return {"publicities": await on_show(), **PUBLIC_LABELS}


@hookimpl
def qinqing_public_sections(tenant):
    return [Widget("cadre.publicity", N_("Publicity"), "cadre/_public_section.html", _public_publicity,
                   order=70)]
