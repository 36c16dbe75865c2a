"""The steps of a case as a declarative state machine (办理规则): `@action` registers a step with
the roles that may take it and the statuses it starts from; `core.cases.lifecycle.perform` runs it.
Also what the steps share: the deadline, the named department, pending objections, extensions
and refusals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Awaitable, Callable

from core.cases.tables import Case, Refusal
from core.clock import today
from core.errors import UserError
from core.scope import scoped
from core.tables import Category, Department
from core.users import CurrentUser
from core.workdays import load_calendar


@dataclass
class Step:
    """What a step's function gets: the case, who takes the step in which role, the form and the event."""

    case: Case
    user: CurrentUser
    role: str
    data: dict
    event: dict  # what goes on the record: reason, data


@dataclass(frozen=True)
class Action:
    """A step as registered: who may take it, from which statuses, and its function."""

    roles: tuple[str, ...]
    states: frozenset[str]
    run: Callable[[Step], Awaitable[str]]  # returns the new status
    scope: str = "any"  # any | department | own_company | handler | stage


ACTIONS: dict[str, Action] = {}


def action(name: str, roles: tuple[str, ...], states: set[str], scope: str = "any"):
    """Register the decorated function as the step `name` (a declarative state machine)."""
    def register(fn):
        ACTIONS[name] = Action(roles, frozenset(states), fn, scope)
        return fn

    return register


# -- what the steps share ----------------------------------------------------------------------------

async def set_deadline(case: Case, start: date | None = None, days: int | None = None) -> None:
    """Set the case's due date: `days` working days (its category's by default) from `start` (today)."""
    if days is None:
        days = (await scoped(Category).select(Category.deadline_days).where(Category.id == case.category).first())[
            "deadline_days"]
    due = (await load_calendar()).add_working_days(start or today(), days)
    case.due_date, case.due_confirmed, case.overdue, case.reminded_for = due.date, due.confirmed, False, None


async def find_department(value: str) -> Department:
    """The department a step names, by code or id (400 when there is none)."""
    query = scoped(Department).objects()
    dept = await query.where(Department.code == value).first()
    if dept is None and value.isdigit():
        dept = await scoped(Department).objects().where(Department.id == int(value)).first()
    if dept is None:
        raise UserError(400, "Unknown department: %(department)s.", code="unknown_department", department=value)
    return dept


async def pending(table, case_id: int):
    """The case's pending row of `table` (an objection, an extension), if any."""
    return await scoped(table).objects().where((table.case == case_id) & (table.status == "pending")).first()


async def open_refusal(case_id: int) -> Refusal | None:
    """The case's refusal waiting for sign-off, if any."""
    return await scoped(Refusal).objects().where((Refusal.case == case_id) & (Refusal.status == "pending")).first()
