"""Who is told about a step of a case: in-app notifications (and e-mail) through the outbox."""

from __future__ import annotations

from core.cases.access import company_users, members_with_role
from core.cases.tables import Case
from workers.core_actors import notify


async def to_users(user_ids: list[int], case: Case, message: str) -> None:
    for user_id in sorted(set(user_ids)):
        await notify(user_id, "case", message, link=f"cases/{case.id}", number=case.number)


async def to_role(role: str, department_id: int | None, case: Case, message: str) -> None:
    await to_users(await members_with_role(role, department_id), case, message)


async def to_company(case: Case, message: str) -> None:
    await to_users(await company_users(case.company), case, message)
