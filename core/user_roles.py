"""A user with their roles in the tenant in scope (角色): read for a session, a token or a job."""

from __future__ import annotations

from core.plugins import get_plugin_manager
from core.prepared import Prepared
from core.scope import current_tenant, scoped
from core.tables import Membership, User
from core.users import CurrentUser

USER_FIELDS = ("id", "username", "display_name", "locale", "active", "is_system_admin")
MEMBERSHIP_COLUMNS = (Membership.role, Membership.department)
_MEMBERSHIPS = Prepared(lambda user_id: scoped(Membership).select(*MEMBERSHIP_COLUMNS).where(
    Membership.user == user_id))


async def load_user(user_id: int, via: str, session_id: int | None = None) -> CurrentUser | None:
    """A user by id with their roles in the tenant in scope (a job acting for who started it)."""
    user = await User.select(*(getattr(User, name) for name in USER_FIELDS)).where(User.id == user_id).first()
    return user_with_roles(user, await _MEMBERSHIPS(user["id"]), via, session_id) if user else None


def user_with_roles(user: dict, memberships: list[dict], via: str, session_id: int | None) -> CurrentUser | None:
    """The user with their roles on the current tenant; None when inactive or without a role here."""
    if not user["active"] or not memberships:
        return None
    manager = get_plugin_manager()
    enabled = manager.enabled_for(current_tenant())
    roles: set[str] = set()
    permissions: set[str] = set()
    departments: set[int] = set()
    for row in memberships:
        definition = manager.roles.get(row["role"])
        if definition is None or manager.role_plugin(row["role"]) not in enabled:
            continue
        roles.add(row["role"])
        permissions |= definition.permissions
        if row["department"]:
            departments.add(row["department"])
    if not roles:
        return None
    return CurrentUser(
        id=user["id"], username=user["username"], display_name=user["display_name"], locale=user["locale"],
        roles=roles, permissions=permissions, department_ids=departments, via=via, session_id=session_id,
        system_admin=bool(user.get("is_system_admin")),
    )


async def is_member(user_id: int) -> bool:
    """Whether the user holds a role in the tenant in scope (may log in here)."""
    return await scoped(Membership).exists().where(Membership.user == user_id)


async def role_holders() -> list[dict]:
    """Every role held in the tenant in scope: ``{"role", "username"}``, one per membership."""
    return await scoped(Membership).select(Membership.role, Membership.user.username.as_alias("username"))
