"""Who is using the system console (系统控制台), over HTTP: the cookie, the guard, the login redirect.

The console works across tenants, so its session is not a tenant's: its key travels in the cookie
`qqs__system`, sent only to `/system/`; the session itself is the domain's (`core.system_sessions`),
which checks the global flag `is_system_admin` again on every request.
"""

from __future__ import annotations

from urllib.parse import quote

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect

from core.errors import UserError
from core.system_sessions import SystemUser, system_user_from_session

SYSTEM_COOKIE = "qqs__system"  # a tenant slug cannot start with "_", so no tenant's cookie is named so
SYSTEM_ROOT = "/system/"


async def system_admin_required(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """A guard: a console session of a (still) system administrator, else 401 (→ login) or 403."""
    user = await system_user_from_session(connection.cookies.get(SYSTEM_COOKIE))
    if user is None:
        raise UserError(401, "Please log in first.")
    connection.scope["state"]["system_user"] = user


def system_user(request: Request) -> SystemUser | None:
    return request.scope.get("state", {}).get("system_user")


def login_redirect(request: Request, exc: Exception) -> Response:
    """Router-level handler for 401 on the console: to its login page, coming back afterwards."""
    target = f"{SYSTEM_ROOT}login?next={quote(request.url.path)}"
    if request.headers.get("hx-request"):
        return Response(b"", status_code=401, headers={"HX-Redirect": target})
    return Redirect(path=target, status_code=303)

