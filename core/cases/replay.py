"""Replaying the record (记录回放): what each case's events say its row must hold.

The record is the truth.  Each case's events, in chain order, determine its status, department,
first responder (首问负责人), deadline, flags, resolution and whether a refusal waits for sign-off;
`check_cases` replays them and compares the result with the case row, naming the first field
that differs.  What an event does not carry is mapped: the first responder on `accept` is the
event's actor, the department on `dispatch` is `data.department` (a code).  A deadline set by a
step whose event does not carry `data.due` cannot be derived, and is not compared until a later
event sets it again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from core.cases import states as S
from core.cases.tables import Case, Event, Refusal
from core.scope import scoped
from core.tables import Department

UNKNOWN = object()  # a value the events do not determine
DEADLINE_STEPS = {"dispatch", "reopen", "rule", "decide-objection", "decide-extension", "redispatch"}
CASE_FIELDS = (Case.id, Case.number, Case.status, Case.department, Case.handler, Case.due_date, Case.escalated,
               Case.overdue, Case.reopened, Case.overturned, Case.resolution)
EVENT_FIELDS = (Event.case, Event.seq, Event.actor, Event.action, Event.reason, Event.after, Event.data)


@dataclass
class Replayed:
    """A case as its events describe it."""

    status: str = ""
    department: str | None = None  # a department code
    handler: int | None = None
    due: object = None  # "YYYY-MM-DD", None, or UNKNOWN
    escalated: bool = False
    overdue: bool = False
    reopened: bool = False
    overturned: bool = False
    resolution: str = ""


@dataclass
class Mismatch:
    case: str  # the case number
    field: str
    expected: object  # from the record
    found: object  # on the row

    def __str__(self) -> str:
        return (f"case {self.case}: {self.field} — the record says {_shown(self.expected)}, "
                f"the row has {_shown(self.found)}")


def _shown(value) -> str:
    return "(none)" if value in (None, "") else repr(value) if isinstance(value, str) else str(value)


# -- one function per concern --------------------------------------------------------------------

def _lifecycle_actions() -> set[str]:
    from core.cases.lifecycle import ACTIONS

    return {"submit", *ACTIONS}


def _status(case: Replayed, event: dict, data: dict, steps: set[str]) -> None:
    """The status follows the steps of the lifecycle; system and side events leave it alone."""
    if event["action"] in steps and not data.get("automatic") and event["after"]:
        case.status = event["after"]


def _objection_accepted(event: dict, data: dict) -> bool:
    return event["action"] == "decide-objection" and data.get("decision") == "accept"


def _overturned(event: dict, data: dict) -> bool:
    return event["action"] == "rule" and (data.get("verdict") == "overturned" or (
        "verdict" not in data and event["after"] == S.DISPATCHED))


def _department(case: Replayed, event: dict, data: dict) -> None:
    if event["action"] == "dispatch" or _objection_accepted(event, data):
        case.department = data.get("department", UNKNOWN)


def _handler(case: Replayed, event: dict, data: dict) -> None:
    """The first responder is who accepted; a (re-)dispatch leaves the case without one."""
    if event["action"] == "accept":
        case.handler = event["actor"]
    elif event["action"] in ("dispatch", "redispatch") or _objection_accepted(event, data) or _overturned(
            event, data):
        case.handler = None


def _deadline(case: Replayed, event: dict, data: dict) -> None:
    action = event["action"]
    if action == "rule" and not _overturned(event, data) or action == "decide-objection" and not _objection_accepted(
            event, data):
        return
    if action in DEADLINE_STEPS:
        due = data.get("due", UNKNOWN)
        case.due = None if due in ("None", "") else due


def _flags(case: Replayed, event: dict, data: dict) -> None:
    """Escalated, reopened and overturned once set stay set; overdue until a new deadline."""
    action = event["action"]
    if action == "escalate":
        case.escalated = True
    elif action == "overdue":
        case.overdue = True
    elif action == "reopen":
        case.reopened = True
    if _overturned(event, data):
        case.overturned = True
    if action in ("dispatch", "reopen", "redispatch") or _overturned(event, data) or _objection_accepted(
            event, data) or (
            action == "decide-extension" and data.get("decision") == "approve"):
        case.overdue = False


def _resolution(case: Replayed, event: dict) -> None:
    if event["action"] in ("resolve", "advance"):  # an advance (先垫资) resolves with what was done
        case.resolution = event["reason"]


def replay(events: list[dict], steps: set[str] | None = None) -> Replayed:
    """The case that `events` (one case's, in chain order) describe."""
    steps = _lifecycle_actions() if steps is None else steps
    case = Replayed()
    for event in events:
        try:
            data = json.loads(event["data"] or "{}")
        except ValueError:
            data = {}
        data = data if isinstance(data, dict) else {}
        _status(case, event, data, steps)
        _department(case, event, data)
        _handler(case, event, data)
        _deadline(case, event, data)
        _flags(case, event, data)
        _resolution(case, event)
    return case


# -- comparing with the rows ---------------------------------------------------------------------

def compare(replayed: Replayed, row: dict, departments: dict[int, str], pending_refusals: int) -> Mismatch | None:
    """The first field in which the case row differs from what its record says."""
    due = row["due_date"]
    pairs = [
        ("status", replayed.status, row["status"]),
        ("department", replayed.department, departments.get(row["department"], row["department"])),
        ("handler", replayed.handler, row["handler"]),
        ("due_date", replayed.due, str(due) if due is not None else None),
        ("escalated", replayed.escalated, bool(row["escalated"])),
        ("overdue", replayed.overdue, bool(row["overdue"])),
        ("reopened", replayed.reopened, bool(row["reopened"])),
        ("overturned", replayed.overturned, bool(row["overturned"])),
        ("resolution", replayed.resolution, row["resolution"] or ""),
        ("pending refusals", int(replayed.status == S.REFUSAL_PENDING), pending_refusals),
    ]
    for name, expected, found in pairs:
        if expected is not UNKNOWN and expected != found:
            return Mismatch(row["number"], name, expected, found)
    return None


async def check_cases(batch: int = 500) -> tuple[int, Mismatch | None]:
    """Replay every case of the current tenant: (cases checked, the first mismatch or None)."""
    steps = _lifecycle_actions()
    departments = {r["id"]: r["code"] for r in await scoped(Department).select(Department.id, Department.code)}
    checked, last_id = 0, 0
    while True:
        rows = await scoped(Case).select(*CASE_FIELDS).where(Case.id > last_id).order_by(Case.id).limit(batch)
        if not rows:
            return checked, None
        ids = [r["id"] for r in rows]
        events: dict[int, list[dict]] = {i: [] for i in ids}
        for event in await scoped(Event).select(*EVENT_FIELDS).where(Event.case.is_in(ids)).order_by(Event.seq):
            events[event["case"]].append(event)
        pending: dict[int, int] = {}
        for refusal in await scoped(Refusal).select(Refusal.case).where(
                Refusal.case.is_in(ids) & (Refusal.status == "pending")):
            pending[refusal["case"]] = pending.get(refusal["case"], 0) + 1
        for row in rows:
            mismatch = compare(replay(events[row["id"]], steps), row, departments, pending.get(row["id"], 0))
            if mismatch is not None:
                return checked, mismatch
            checked += 1
        last_id = ids[-1]
