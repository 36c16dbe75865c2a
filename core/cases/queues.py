"""The case queues (待办的诉求): which cases wait on a user, by queue name.  `case_clause` is the
one definition both the case list (``cases/?queue=<name>``) and the work queue's count use."""

from __future__ import annotations

from piccolo.columns.combination import Where
from piccolo.custom_types import Combinable

from core.cases import states as S
from core.cases.tables import Case, Extension, Objection, Refusal, SignOff
from core.clock import today
from core.i18n import N_
from core.scope import scoped
from core.workdays import load_calendar

DUE_SOON_DAYS = 3  # working days: "due soon" is due within this many, not yet overdue


async def _pending_case_ids(table) -> list[int]:
    return [r["case"] for r in await scoped(table).select(table.case).where(table.status == "pending")]


async def signable_case_ids(user) -> list[int]:
    """Cases whose refusal waits for this user's signature: at a level the user holds, in the
    user's department, neither filed nor signed already by the user (separation of duties)."""
    levels = [lv for lv in S.SIGN_LEVELS if user.has_role(lv)]
    if not levels or not user.department_ids:
        return []
    rows = await scoped(Refusal).select(Refusal.id, Refusal.case, Refusal.filed_by).where(
        (Refusal.status == "pending") & Refusal.stage.is_in(levels)
        & Refusal.case.department.is_in(list(user.department_ids)))
    if not rows:
        return []
    signed = {r["refusal"] for r in await scoped(SignOff).select(SignOff.refusal).where(
        SignOff.refusal.is_in([r["id"] for r in rows]) & (SignOff.signer == user.id))}
    return [r["case"] for r in rows if r["filed_by"] != user.id and r["id"] not in signed]


def _ids(ids: list[int]) -> Where:
    return Case.id.is_in(ids or [-1])


async def _due_horizon():
    return (await load_calendar()).add_working_days(today(), DUE_SOON_DAYS).date


def _departments(user) -> list[int]:
    return list(user.department_ids) or [-1]


async def case_clause(user, key: str) -> Combinable | None:
    """The case list's filter of the queue `key` for `user` (None: not a case queue); the list
    (``cases/?queue=key``) and the count use it both, with the user's visibility added."""
    mine = Case.handler == user.id
    open_ = Case.status.is_in(list(S.OPEN))
    if key == "open":
        return open_
    if key == "to_rate":
        return Case.status == S.RESOLVED
    if key == "to_review":
        return Case.status == S.REFUSED
    if key == "to_accept":
        return (Case.status == S.DISPATCHED) & Case.department.is_in(_departments(user))
    if key == "in_progress":
        return mine & (Case.status == S.IN_PROGRESS)
    if key == "due_soon":
        return mine & Case.status.is_in(list(S.WITH_DEADLINE)) & (Case.overdue == False) & (  # noqa: E712
            Case.due_date <= await _due_horizon())
    if key == "my_overdue":
        return mine & (Case.overdue == True) & open_  # noqa: E712
    if key == "to_sign":
        return _ids(await signable_case_ids(user))
    if key == "extensions":
        return _ids(await _pending_case_ids(Extension)) & Case.department.is_in(_departments(user)) & (
            Case.status.is_in([S.IN_PROGRESS, S.REFUSAL_PENDING]))
    if key == "all_extensions":
        return _ids(await _pending_case_ids(Extension)) & Case.status.is_in([S.IN_PROGRESS, S.REFUSAL_PENDING])
    if key == "escalated_to_me":
        return (Case.escalated_to == user.id) & open_
    if key == "to_dispatch":
        return Case.status == S.SUBMITTED
    if key == "objections":
        return _ids(await _pending_case_ids(Objection)) & Case.status.is_in([S.DISPATCHED, S.IN_PROGRESS])
    if key == "overdue":
        return (Case.overdue == True) & open_  # noqa: E712
    return None


CASE_QUEUES = {  # key: (label, mine, hint)
    "to_rate": (N_("Waiting for my rating"), True, N_("A case appears here when a department has resolved it.")),
    "to_review": (N_("Refused: you may ask for a review"), True,
                  N_("A refusal signed by all three levels appears here; you may ask the review panel to look at it.")),
    "open": (N_("My open cases"), False, N_("Cases you submitted that are not closed yet.")),
    "to_accept": (N_("To accept"), True, N_("Cases the dispatcher sends to your department appear here.")),
    "in_progress": (N_("In progress"), True, N_("Cases you accepted and have not resolved yet.")),
    "due_soon": (N_("Due within 3 working days"), True, N_("Your cases whose deadline is near.")),
    "my_overdue": (N_("My overdue cases"), True, N_("Your cases past their deadline.")),
    "to_sign": (N_("To sign"), True, N_("A refusal appears here when it reaches your level of sign-off.")),
    "extensions": (N_("Extension requests to decide"), True,
                   N_("A handler's request for more working days appears here.")),
    "escalated_to_me": (N_("Escalated to me"), True, N_("Cases the dispatcher or the deadline escalates to you.")),
    "to_dispatch": (N_("To dispatch"), True, N_("New cases from companies appear here.")),
    "objections": (N_("Objections to decide"), True,
                   N_("A department that objects to an assignment within a working day appears here.")),
    "all_extensions": (N_("Extension requests"), False, N_("Requests for more working days, decided by the leader "
                                                           "in charge.")),
    "overdue": (N_("Overdue"), False, N_("Open cases past their deadline.")),
}
