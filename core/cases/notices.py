"""Who is told about a step of a case: in-app notifications (and e-mail) through the outbox.

The `..._many` variants queue the notices of many cases in one write (the deadline sweep); the
single-case functions are the same code with one case.
"""

from __future__ import annotations

from typing import Iterable

from core.cases.access import company_users, members_with_role
from core.cases.tables import Case
from core.notifications import notify_many, notify_writes


def _ref(case: Case | dict) -> tuple[int, str]:
    """A case is a `Case` or a row (dict) with at least its "id" and "number"."""
    return (case["id"], case["number"]) if isinstance(case, dict) else (case.id, case.number)


def _rows(notices: Iterable[tuple[Iterable[int], Case | dict, str]]) -> list[dict]:
    rows = []
    for user_ids, case, message in notices:
        case_id, number = _ref(case)
        rows += [{"user_id": user_id, "kind": "case", "title": message, "link": f"cases/{case_id}",
                  "params": {"number": number}} for user_id in sorted(set(user_ids))]
    return rows


async def to_users_many(notices: Iterable[tuple[Iterable[int], Case | dict, str]]) -> None:
    """Queue each (user ids, case, message) as `to_users` would, all in one write."""
    await notify_many(_rows(notices))


def to_users_writes(user_ids: list[int], case: Case, message: str) -> list:
    """`to_users`' writes, for the caller to run in its transaction (alone or with others)."""
    return notify_writes(_rows([(user_ids, case, message)]))


async def to_users(user_ids: list[int], case: Case, message: str) -> None:
    await to_users_many([(user_ids, case, message)])


async def to_role_many(role: str, department_id: int | None, cases: Iterable[Case | dict], message: str) -> None:
    """`to_role` for many cases at once (the members are looked up once)."""
    cases = list(cases)
    if cases:
        members = await members_with_role(role, department_id)
        await to_users_many([(members, case, message) for case in cases])


async def to_role(role: str, department_id: int | None, case: Case, message: str) -> None:
    await to_role_many(role, department_id, [case], message)


async def to_company(case: Case, message: str) -> None:
    await to_users(await company_users(case.company), case, message)
