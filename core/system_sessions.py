"""Sessions of the system console (系统控制台): a system administrator's own, across tenants.

They live in the `system_session` table (outside row-level security, like the outbox), not in a
tenant's.  Only a user with the global flag `is_system_admin` may hold one; the flag is checked
again each time the session is read.  The web shell keeps the cookie and the guard
(`web.system_auth`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from core.clock import as_utc, now
from core.db import write_transaction
from core.errors import UserError
from core.identity import SESSION_HOURS, digest
from core.tables import SystemSession, User


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


async def system_user_from_session(key: str | None) -> SystemUser | None:
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
