"""The module's record (`Event`) and who is told: a project's helper, a company's users, a
department's officers and leaders."""

from __future__ import annotations

import json

from core.sdk import Membership, company_users, members_with_role, notify, now, scoped
from plugins.approvals.tables import Event

KIND = "approvals"


async def record(action: str, actor: int | None, project: int | None = None, filing: int | None = None,
                 **data) -> None:
    await scoped(Event).add(project=project, filing=filing, action=action, actor=actor, created_at=now(),
                            data=json.dumps(data, ensure_ascii=False, default=str))


async def officers(department: int | None) -> list[int]:
    """Who decides a department's applications: its officers, and the integrated window's."""
    ids = set(await members_with_role("approvals_officer", department)) if department else set()
    rows = await scoped(Membership).select(Membership.user).where(
        (Membership.role == "approvals_officer") & Membership.department.is_null())
    return sorted(ids | {r["user"] for r in rows})


async def leaders(department: int | None) -> list[int]:
    """A department's leader in charge and head (分管领导 · 部门负责人); the coordinators when it has none."""
    ids: set[int] = set()
    if department:
        for role in ("leader", "dept_head"):
            ids |= set(await members_with_role(role, department))
    return sorted(ids) or list(await members_with_role("approvals_coordinator"))


async def helper_or_coordinators(helper: int | None) -> list[int]:
    return [helper] if helper else list(await members_with_role("approvals_coordinator"))


async def tell(users, message: str, link: str, **params) -> None:
    for user_id in sorted(set(u for u in users if u)):
        await notify(user_id, KIND, message, link=link, **params)


async def tell_company(company: int | None, message: str, link: str, **params) -> None:
    if company:
        await tell(await company_users(company), message, link, **params)
