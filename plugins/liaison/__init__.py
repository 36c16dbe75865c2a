"""The township liaison network (助企员 · 企业联络员 · 村社助跑员 · 百晓长).

Registered through the `qinqing.plugins` entry point; a tenant sees it only if it enabled it.
"""

from core.contrib import NavItem, PluginInfo, RoleDef
from core.hookspecs import hookimpl
from core.i18n import N_
from core.plugin_kit import landing_page, templates_of

NAME = "liaison"


@hookimpl
def qinqing_plugin_info():
    return PluginInfo(NAME, N_("Liaison network"), N_("Each company paired with a cadre assistant who carries its needs through the departments; village runners, industry leads, visits and training salons."))


@hookimpl
def qinqing_routes():
    return [landing_page(NAME)]


@hookimpl
def qinqing_navigation(tenant, user):
    return [NavItem(N_("Liaison"), f"{NAME}/", order=60)]


@hookimpl
def qinqing_roles():
    return [
        RoleDef("liaison_assistant", N_("Cadre assistant"), frozenset({"liaison.view", "liaison.assist"})),
        RoleDef("liaison_runner", N_("Village runner"), frozenset({"liaison.view", "liaison.run"})),
        RoleDef("liaison_lead", N_("Industry lead"), frozenset({"liaison.view", "liaison.lead"})),
        RoleDef("liaison_coordinator", N_("Township coordinator"), frozenset({"liaison.view", "liaison.coordinate"})),
    ]


@hookimpl
def qinqing_piccolo_apps():
    return [f"plugins.{NAME}.piccolo_app"]


@hookimpl
def qinqing_template_dirs():
    return [templates_of(__file__)]
