"""Who is using the system console (系统控制台): a system administrator's own session.

The console works across tenants, so its session is not a tenant's: it lives in the
`system_session` table (outside row-level security, like the outbox) and in the cookie
`qqs__system`, sent only to `/system/`.  Only a user with the global flag `is_system_admin`
may open one; the flag is checked again on every request.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect

from core.clock import as_utc, now
from core.db import write_transaction
from core.errors import UserError
from core.identity import SESSION_HOURS, digest
from core.tables import SystemSession, User

SYSTEM_COOKIE = "qqs__system"  # a tenant slug cannot start with "_", so no tenant's cookie is named so
SYSTEM_ROOT = "/system/"


@dataclass(frozen=True)
class SystemUser:
    id: int
    username: str
    display_name: str
    session_id: int


async def start_system_session(user_id: int) -> str:
    key = secrets.token_urlsafe(32)
    async with write_transaction():
        await SystemSession.insert(SystemSession(key_hash=digest(key), user=user_id,
                                                 expires_at=now() + timedelta(hours=SESSION_HOURS)))
    return key


async def end_system_session(session_id: int) -> None:
    await SystemSession.delete().where(SystemSession.id == session_id)


async def system_user_from_cookie(key: str | None) -> SystemUser | None:
    """The system administrator of a console session; None if there is none (or it expired)."""
    if not key:
        return None
    row = await SystemSession.select(SystemSession.id, SystemSession.user, SystemSession.expires_at).where(
        SystemSession.key_hash == digest(key)).first()
    if row is None:
        return None
    if as_utc(row["expires_at"]) <= now():
        await end_system_session(row["id"])
        return None
    user = await User.select(User.id, User.username, User.display_name, User.locale, User.active,
                             User.is_system_admin).where(User.id == row["user"]).first()
    if user is None or not user["active"]:
        return None
    if not user["is_system_admin"]:
        raise UserError(403, "Only a system administrator may use the system console.", code="not_system_admin")
    return SystemUser(id=user["id"], username=user["username"], display_name=user["display_name"],
                      session_id=row["id"])


async def system_admin_required(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """A guard: a console session of a (still) system administrator, else 401 (→ login) or 403."""
    user = await system_user_from_cookie(connection.cookies.get(SYSTEM_COOKIE))
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

