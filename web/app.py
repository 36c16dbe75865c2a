"""The Litestar app factory: a thin `create_app()` that bridges plugin contributions in."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from jinja2 import ChoiceLoader, FileSystemLoader, select_autoescape
from litestar import Litestar, Router, get
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import HTTPException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins import InitPluginProtocol
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from core import auth_cache
from core.config import Settings, get_settings
from core.db import close_pool, start_pool
from core.http import render_pages_with
from core.i18n import current_locale, gettext, ngettext
from core.observability import configure_logging
from core.plugins import PluginManager, get_plugin_manager
from web import api, errors, filters, health, metrics, rendering
from web.api_cases import CaseApi, CompanyApi, ReferenceApi
from web.csrf import SessionCSRFMiddleware
from web.open311 import JurisdictionRewrite, open311_router
from web.options import allow_every_method
from web.pages.advances import AdvanceApi, AdvancePages
from web.pages.auth import AuthController
from web.pages.cases import CasePages
from web.pages.catalogue import CataloguePages
from web.pages.city import CityPages
from web.pages.companies import CompanyPages
from web.pages.exports import ExportPages
from web.pages.home import HomeController
from web.pages.index_page import IndexPages
from web.pages.policies import PolicyPages
from web.pages.profile import ProfileController
from web.pages.report import ReportPages
from web.pages.screen import PublicPage, ScreenPages, screen_stream
from web.pages.system import system_router
from web.read_routing import ReadRouting
from web.tenancy import HostRewrite, TenantMiddleware

WEB_DIR = Path(__file__).resolve().parent
log = logging.getLogger("qinqing.web")


class PluginBridge(InitPluginProtocol):
    """Mounts every plugin's routes under `/t/{tenant}/<name>/`, tagged so the tenant middleware
    answers 404 where the plugin is not enabled."""

    def __init__(self, manager: PluginManager):
        self.manager = manager

    def on_app_init(self, app_config):
        for info, handlers in self.manager.routes():
            # Pages: the OpenAPI schema documents the JSON API only.
            if info.name == "core":
                app_config.route_handlers.append(Router(path="/t/{tenant:str}", route_handlers=handlers,
                                                        include_in_schema=False))
            else:
                app_config.route_handlers.append(
                    Router(path=f"/t/{{tenant:str}}/{info.name}", route_handlers=handlers, opt={"plugin": info.name},
                           include_in_schema=False)
                )
        for info, handlers in self.manager.api_routes():
            app_config.route_handlers.append(api.plugin_api_router(info.name, handlers))
        return app_config


def _jinja_env(manager: PluginManager, reload: bool = False) -> rendering.RowEnvironment:
    """`reload`: check every template file's time on each use (Jinja's default); off, a page does
    not stat its dozen templates and includes on every request."""
    loaders = [FileSystemLoader(str(WEB_DIR / "templates"))] + [FileSystemLoader(d) for d in manager.template_dirs()]
    env = rendering.RowEnvironment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(["html"]),
                      extensions=["jinja2.ext.i18n"], auto_reload=reload)
    env.install_gettext_callables(lambda s: gettext(s), lambda s, p, n: ngettext(s, p, n), newstyle=True)
    env.globals["gettext"] = env.globals["_"] = filters.template_gettext()
    env.globals["current_locale"] = current_locale.get
    env.filters.update(filters.FILTERS)
    env.globals["tr"] = filters.tr
    env.globals["icon"] = filters.icon
    env.globals["status_badge"] = filters.status_badge
    env.globals["role_label"] = lambda key: gettext(manager.roles[key].label if key in manager.roles else "System")
    return env


@get("/", include_in_schema=False, name="portal")
async def portal() -> object:
    from litestar.response import Template

    from core.i18n import current_locale as loc
    from tenants.registry import all_tenants

    tenants = [t for t in await all_tenants() if t.active]
    return Template("portal.html", context={"tenants": tenants, "locale": loc.get(), "root": "/", "nav": [],
                                            "user": None, "tenant": None, "html_lang": "zh-CN", "csrf": ""},
                    media_type="text/html")


def _lifespan(settings: Settings, embedded_worker: bool, db_pool: bool):
    @asynccontextmanager
    async def lifespan(app: Litestar):
        from workers.broker import is_embedded, setup_broker
        from workers.scheduler import run_forever

        if db_pool:
            await start_pool()
        setup_broker(settings)
        stop = asyncio.Event()
        task = None
        if embedded_worker and is_embedded():
            task = asyncio.create_task(run_forever(stop, interval=0.5))
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                await task
            if db_pool:
                await close_pool()

    return lifespan


def create_app(settings: Settings | None = None, manager: PluginManager | None = None,
               embedded_worker: bool = True, db_pool: bool = True) -> HostRewrite:
    settings = settings or get_settings()
    manager = manager or get_plugin_manager()
    render_pages_with(rendering.page)  # the modules' pages (core.http.page) in the site's layout
    static_routers = [create_static_files_router(path="/static", directories=[WEB_DIR / "static"],
                                                 include_in_schema=False, name="static")]
    for name, folder in manager.static_dirs():
        static_routers.append(create_static_files_router(path=f"/static/{name}", directories=[folder],
                                                         include_in_schema=False, name=f"static_{name}"))
    app = Litestar(
        route_handlers=[
            portal, health.healthz, health.readyz, metrics.metrics, *static_routers,
            AuthController, HomeController, ProfileController, CasePages, CompanyPages, CataloguePages, ScreenPages, CityPages, screen_stream, PublicPage, ExportPages, IndexPages, PolicyPages, AdvancePages, ReportPages, api.api_router([CaseApi, CompanyApi, ReferenceApi, AdvanceApi]),
            open311_router(),
            system_router(),
        ],
        plugins=[PluginBridge(manager), HTMXPlugin()],
        # Last in the list, so innermost: where Litestar's own CSRF check (csrf_config) would sit.
        middleware=[metrics.RouteLabel(), ReadRouting, TenantMiddleware, DefineMiddleware(SessionCSRFMiddleware, config=CSRFConfig(
            secret=settings.secret_key, cookie_samesite="lax", cookie_httponly=True, header_name="x-csrftoken",
            exclude=[r"/t/[^/]+/api/", r"^(/t/[^/]+)?/open311/v2/"]))],
        template_config=TemplateConfig(engine=JinjaTemplateEngine.from_environment(_jinja_env(manager, settings.template_reload))),
        exception_handlers={HTTPException: errors.exception_handler, Exception: errors.exception_handler,
                            auth_cache.Stale: errors.read_afresh},
        openapi_config=OpenAPIConfig(title="qinqing API", version="1", path="/schema",
                                     render_plugins=[JsonRenderPlugin()], components=api.COMPONENTS),
        request_max_body_size=settings.max_body_bytes,
        request_class=errors.BodyCheckedRequest,
        lifespan=[_lifespan(settings, embedded_worker, db_pool)],
        debug=False,
    )
    allow_every_method(app)
    configure_logging(settings.log_format, settings.log_level)
    return HostRewrite(metrics.Observability(JurisdictionRewrite(app, settings.max_body_bytes)),
                       base_domain=settings.extra.get("base_domain", "localhost"))
