"""The system console (系统控制台) at `/system/`, across tenants, for system administrators:
its own login, the tenants with their modules and figures, activating and deactivating a tenant
and its modules.  Onboarding and the worker state live in `system_onboarding` and
`system_workers`; `system_router()` puts them together.

No tenant is in scope here: tenant data is read inside `tenant_scope(tenant)` one tenant at a
time (`tenants.overview`), never filtered by hand.
"""

from __future__ import annotations

from urllib.parse import urlparse

import msgspec
from litestar import Controller, Request, Router, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from core.errors import UserError
from core.i18n import gettext, normalize_locale
from core.identity import SESSION_HOURS, LoginRefused, check_login
from core.plugins import get_plugin_manager
from core.system_sessions import end_system_session, start_system_session, system_user_from_session
from core.tenant_links import links_of
from tenants.manifest import ManifestError
from tenants.onboarding import set_active, set_link, set_plugin
from tenants.onboarding_jobs import recent_jobs
from tenants.overview import tenant_figures
from tenants.registry import all_tenants, load_tenant
from web.pages.console import console_page
from web.system_auth import SYSTEM_COOKIE, SYSTEM_ROOT, login_redirect, system_admin_required


def safe_next(target: str) -> str:
    parsed = urlparse(target or "")
    if parsed.scheme or parsed.netloc or not (target or "").startswith(SYSTEM_ROOT):
        return SYSTEM_ROOT
    return target


class LoginForm(msgspec.Struct):
    username: str = ""
    password: str = ""
    next: str = ""


class ToggleForm(msgspec.Struct):
    enabled: str = ""


class LinkForm(msgspec.Struct):
    partner: str = ""
    enabled: str = ""


class SystemLogin(Controller):
    """Logging in to the console: the tenant login's password check and lock-out, then the
    system-administrator flag (a correct password without it is 403, and no session)."""

    path = "/"

    @get("/login", name="system_login")
    async def login_form(self, request: Request, next: FromQuery[str] = "") -> Template:
        return console_page(request, "system/login.html", next=next, error=None, username="")

    @post("/login", name="system_login_submit")
    async def login(self, request: Request, data: URLEncodedBody[LoginForm]) -> object:
        username = data.username.strip()[:150]

        async def anyone(_user) -> bool:
            return True

        try:
            user = await check_login(username, data.password, anyone)
        except LoginRefused as refused:
            return console_page(request, "system/login.html", status_code=refused.status, next=data.next,
                                error=refused.message, username=username)
        if not user.is_system_admin:
            return console_page(request, "system/login.html", status_code=403, next=data.next, username=username,
                                error=gettext("This account is not a system administrator."))
        key = await start_system_session(user.id)
        response = Redirect(path=safe_next(data.next), status_code=303)
        response.set_cookie(Cookie(key=SYSTEM_COOKIE, value=key, httponly=True, samesite="lax", path="/system",
                                   max_age=SESSION_HOURS * 3600))
        return response

    @post("/logout", name="system_logout")
    async def logout(self, request: Request) -> Redirect:
        try:
            user = await system_user_from_session(request.cookies.get(SYSTEM_COOKIE))
        except UserError:  # no longer an administrator: the session goes all the same
            user = None
        if user is not None:
            await end_system_session(user.session_id)
        response = Redirect(path=f"{SYSTEM_ROOT}login", status_code=303)
        response.delete_cookie(SYSTEM_COOKIE, path="/system")
        return response

    @get("/lang/{code:str}", name="system_language")
    async def set_language(self, code: FromPath[str], next: FromQuery[str] = "") -> Redirect:
        response = Redirect(path=safe_next(next), status_code=303)
        response.set_cookie(Cookie(key="lang", value=normalize_locale(code) or "zh_CN", samesite="lax", path="/",
                                   max_age=365 * 86400))
        return response


async def _tenant_or_404(slug: str):
    tenant = await load_tenant(slug)
    if tenant is None:
        raise UserError(404, "Not found.")
    return tenant


def _optional_plugins(tenant) -> list[str]:
    manager = get_plugin_manager()
    return [name for name in sorted(manager.enabled_for(tenant)) if manager.infos[name].optional]


class TenantConsole(Controller):
    """The tenants (租户): list with figures, one tenant's page, activation and modules."""

    path = "/"
    guards = [system_admin_required]

    @get("/", name="system_home")
    async def index(self, request: Request) -> Template:
        tenants = await all_tenants()
        slugs = {t.id: t.slug for t in tenants}
        rows = [{"tenant": t, "parent": slugs.get(t.parent_id, ""), "plugins": _optional_plugins(t),
                 "figures": await tenant_figures(t)} for t in tenants]
        return console_page(request, "system/tenants.html", rows=rows)

    @get("/tenants/{slug:str}", name="system_tenant")
    async def detail(self, request: Request, slug: FromPath[str]) -> Template:
        tenant = await _tenant_or_404(slug)
        manager = get_plugin_manager()
        parent = next((t for t in await all_tenants() if t.id == tenant.parent_id), None)
        plugins = [{"info": manager.infos[name], "enabled": manager.is_enabled(tenant, name)}
                   for name in manager.optional_names()]
        jobs = await recent_jobs(5, slug=tenant.slug)
        return console_page(request, "system/tenant.html", tenant=tenant, parent=parent, plugins=plugins,
                            figures=await tenant_figures(tenant), jobs=jobs, links=await links_of(tenant),
                            can_link=tenant.kind in ("court", "district"))

    @post("/tenants/{slug:str}/active", name="system_tenant_active")
    async def set_active(self, slug: FromPath[str], data: URLEncodedBody[ToggleForm]) -> Redirect:
        await _tenant_or_404(slug)
        await set_active(slug, data.enabled == "1")
        return Redirect(path=f"{SYSTEM_ROOT}tenants/{slug}", status_code=303)

    @post("/tenants/{slug:str}/plugins/{plugin:str}", name="system_tenant_plugin")
    async def set_plugin(self, slug: FromPath[str], plugin: FromPath[str], data: URLEncodedBody[ToggleForm]) -> Redirect:
        await _tenant_or_404(slug)
        try:
            await set_plugin(slug, plugin, data.enabled == "1")
        except ManifestError:
            raise UserError(404, "Not found.") from None
        return Redirect(path=f"{SYSTEM_ROOT}tenants/{slug}", status_code=303)


    @post("/tenants/{slug:str}/links", name="system_tenant_link")
    async def set_link(self, slug: FromPath[str], data: URLEncodedBody[LinkForm]) -> Redirect:
        """Declare or end this tenant's side of a link with a court or a district (关联法院)."""
        await _tenant_or_404(slug)
        try:
            await set_link(slug, data.partner.strip(), data.enabled == "1")
        except ManifestError as exc:
            raise UserError(400, exc.problems[0].message, code="link", **exc.problems[0].params) from None
        return Redirect(path=f"{SYSTEM_ROOT}tenants/{slug}", status_code=303)


def system_router() -> Router:
    """Everything under `/system/`; a missing login there leads to the console's own login page."""
    from web.pages.system_onboarding import OnboardingConsole
    from web.pages.system_workers import WorkerConsole

    return Router(path="/system", route_handlers=[SystemLogin, TenantConsole, OnboardingConsole, WorkerConsole],
                  exception_handlers={401: login_redirect}, include_in_schema=False)
