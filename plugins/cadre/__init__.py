"""Cadre evaluation and fault tolerance (专项考察 · 容错免责), for organization departments.

Registered through the `qinqing.plugins` entry point; a tenant sees it only if it enabled it.
"""

from core.contrib import NavItem, PluginInfo, RoleDef
from core.hookspecs import hookimpl
from core.i18n import N_
from core.plugin_kit import landing_page, templates_of

NAME = "cadre"


@hookimpl
def qinqing_plugin_info():
    return PluginInfo(NAME, N_("Cadre evaluation"), N_("Special evaluations of cadres from their record on the platform, their outcomes, and fault tolerance for mistakes made in good faith."))


@hookimpl
def qinqing_routes():
    return [landing_page(NAME)]


@hookimpl
def qinqing_navigation(tenant, user):
    return [NavItem(N_("Cadre evaluation"), f"{NAME}/", order=70)]


@hookimpl
def qinqing_roles():
    return [
        RoleDef("cadre_org", N_("Organization department"), frozenset({"cadre.view", "cadre.manage"})),
        RoleDef("cadre_evaluator", N_("Evaluator"), frozenset({"cadre.view", "cadre.evaluate"})),
    ]


@hookimpl
def qinqing_piccolo_apps():
    return [f"plugins.{NAME}.piccolo_app"]


@hookimpl
def qinqing_template_dirs():
    return [templates_of(__file__)]
