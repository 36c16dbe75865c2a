"""Rendering pages: the context every template gets, and guards for pages and API calls."""

from __future__ import annotations

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Template
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState

from core.i18n import N_, current_locale
from core.plugins import get_plugin_manager
from web.errors import UserError


def current_user(request: Request | ASGIConnection):
    return request.scope.get("state", {}).get("user")


def tenant_of(request: Request | ASGIConnection):
    return request.scope.get("state", {}).get("tenant")


# The side navigation's areas, in order (interface.md: 办理 · 监督 · 模块 · 管理).
NAV_GROUPS = (("work", N_("Work")), ("oversight", N_("Oversight")), ("modules", N_("Modules")),
              ("admin", N_("Administration")))
_GROUP_ICONS = {"work": "inbox", "oversight": "graph-up", "modules": "puzzle", "admin": "gear"}
_MODULE_ICONS = {"mediation": "bank", "liaison": "chat-dots", "cadre": "award"}


def _current_item(items: list, relative: str, query: str):
    """The navigation item of the page at `relative` (path below the tenant root): the longest
    href that is a prefix of it and whose own query (cases/?mine=1) the request carries."""
    asked = set(filter(None, query.split("&")))
    relative = relative.rstrip("/")  # Litestar answers cases/ at cases
    best, best_len = None, -1
    for item in items:
        path, _, wanted = item.href.partition("?")
        path = path.rstrip("/")
        inside = relative == path or (path != "" and relative.startswith(path + "/"))
        if not inside or not set(filter(None, wanted.split("&"))) <= asked:
            continue
        if len(item.href) > best_len:
            best, best_len = item, len(item.href)
    return best


def navigation(items: list, relative: str, query: str) -> tuple[list, list]:
    """The side navigation as [(group key, label, [(item, icon, current)])], and the account items."""
    current = _current_item(items, relative, query)
    groups = []
    for key, label in NAV_GROUPS:
        entries = []
        for item in items:
            if item.group == "account" or (item.group if item.group in _GROUP_ICONS else "modules") != key:
                continue
            icon = item.icon or _MODULE_ICONS.get(item.href.split("/", 1)[0]) or _GROUP_ICONS[key]
            entries.append((item, icon, item is current))
        if entries:
            groups.append((key, label, entries))
    return groups, [i for i in items if i.group == "account"]


def page_context(request: Request) -> dict:
    state = request.scope.get("state", {})
    tenant = state.get("tenant")
    user = state.get("user")
    locale = current_locale.get()
    nav = []
    if tenant is not None and user is not None:
        nav = get_plugin_manager().navigation(tenant, user)
    root = state.get("tenant_root") or "/"
    path = request.url.path
    relative = path[len(root):] if path.startswith(root) else ""
    nav_groups, account_nav = navigation(nav, relative, request.url.query or "")
    csrf = value_or_default(ScopeState.from_scope(request.scope).csrf_token, "")
    return {
        "tenant": tenant,
        "tenant_name": tenant.name(locale) if tenant else "",
        "root": root,
        "user": user,
        "nav": nav,
        "nav_groups": nav_groups,
        "account_nav": account_nav,
        "locale": locale,
        "html_lang": "zh-CN" if locale == "zh_CN" else "en",
        "csrf": csrf,
        "path": path,
    }


def page(request: Request, template: str, status_code: int = 200, **context) -> Template:
    """Render a page (or, for an htmx request with `fragment`, just that fragment)."""
    name = template
    fragment = context.pop("fragment", None)
    if fragment and request.headers.get("hx-request") and not request.headers.get("hx-boosted"):
        name = fragment
    return Template(name, context={**page_context(request), **context}, status_code=status_code,
                    media_type="text/html")


# -- guards -------------------------------------------------------------------------------------

def _check_login(connection: ASGIConnection) -> None:
    state = connection.scope.get("state", {})
    if state.get("user") is None:
        if state.get("auth_error") == "invalid_token":
            raise UserError(401, "The API token is not valid for this tenant.", code="invalid_token")
        raise UserError(401, "Please log in first.")


# Guards are coroutines: Litestar runs a plain-function guard in a worker thread, a hop per
# request that costs more than the check itself.
async def login_required(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    _check_login(connection)


def requires(permission: str):
    """A guard: the user must be logged in here and hold `permission`."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        _check_login(connection)
        if not current_user(connection).can(permission):
            raise UserError(403, "You are not allowed to do this.")

    guard.__name__ = f"requires_{permission.replace('.', '_')}"
    return guard
