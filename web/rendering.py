"""Rendering pages: the context every template gets, and guards for pages and API calls."""

from __future__ import annotations

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Template
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState

from core.i18n import current_locale
from core.plugins import get_plugin_manager
from web.errors import UserError


def current_user(request: Request | ASGIConnection):
    return request.scope.get("state", {}).get("user")


def tenant_of(request: Request | ASGIConnection):
    return request.scope.get("state", {}).get("tenant")


def page_context(request: Request) -> dict:
    state = request.scope.get("state", {})
    tenant = state.get("tenant")
    user = state.get("user")
    locale = current_locale.get()
    nav = []
    if tenant is not None and user is not None:
        nav = get_plugin_manager().navigation(tenant, user)
    csrf = value_or_default(ScopeState.from_scope(request.scope).csrf_token, "")
    return {
        "tenant": tenant,
        "tenant_name": tenant.name(locale) if tenant else "",
        "root": state.get("tenant_root") or "/",
        "user": user,
        "nav": nav,
        "locale": locale,
        "html_lang": "zh-CN" if locale == "zh_CN" else "en",
        "csrf": csrf,
        "path": request.url.path,
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
