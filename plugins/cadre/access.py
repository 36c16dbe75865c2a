"""Who may see what (confidential, 保密): organization-department roles see everything of the
module (`cadre.view`; `cadre.manage` changes it, `cadre.evaluate` scores); a cadre with the
`cadre.self` permission sees their own file and their own applications, read-only apart from
applying.  Everyone else gets 403 and no data."""

from __future__ import annotations

from core.sdk import UserError, scoped
from plugins.cadre.tables import Cadre


def is_org(user) -> bool:
    return user is not None and user.can("cadre.view")


def require(user, permission: str) -> None:
    if user is None or not user.can(permission):
        raise UserError(403, "You are not allowed to do this.")


def require_any(user) -> None:
    """Some standing in the module: an organization role, or a cadre's own view."""
    if not (is_org(user) or (user is not None and user.can("cadre.self"))):
        raise UserError(403, "You are not allowed to do this.")


async def own_cadre_id(user) -> int | None:
    if user is None or not user.can("cadre.self"):
        return None
    row = await scoped(Cadre).select(Cadre.id).where(Cadre.user == user.id).first()
    return row["id"] if row else None


async def require_cadre_reader(user, cadre_id: int) -> None:
    """The cadre's file: organization roles, or the cadre themself."""
    if is_org(user):
        return
    require_any(user)
    if await own_cadre_id(user) != cadre_id:
        raise UserError(403, "You are not allowed to do this.")
