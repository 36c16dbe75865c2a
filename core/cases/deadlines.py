"""Deadline jobs (期限管理): a reminder one working day before the due date, the overdue flag, and
automatic escalation (提级办理) once a case is overdue by the tenant's number of working days.
Run by the scheduler every hour; each effect is recorded once (flags on the case), so reruns and
overlapping runs change nothing.

Set-based: one query reads only the cases with something to do (and only the columns needed), so
a rerun on the same day reads nothing; the flags are set by a few `UPDATE … WHERE id IN (…) AND
<not yet done> RETURNING id`, and only the ids an update returns get their events (one append to
the chain per run) and notices (one write per kind) — two overlapping runs never both record one.
"""

from __future__ import annotations

from datetime import date, timedelta

from core.cases import notices, states as S
from core.cases.audit import append_events
from core.cases.steps import escalate_many
from core.cases.tables import Case
from core.clock import today
from core.i18n import N_
from core.oversight import tally
from core.scope import scoped
from core.tenant_settings import tenant_setting
from core.workdays import load_calendar

OPEN_WITH_DEADLINE = list(S.WITH_DEADLINE)
BATCH = 1000  # ids per UPDATE
DUE_TOMORROW = N_("Case %(number)s is due tomorrow.")
OVERDUE = N_("Case %(number)s is overdue.")
FIELDS = (Case.id, Case.number, Case.status, Case.department, Case.handler, Case.due_date, Case.reminded_for,
          Case.overdue, Case.escalated)
MAX_LOOKBACK_DAYS = 3660  # a calendar without working days never makes a case late enough


def escalation_cutoff(calendar, on: date, threshold: int, due_soon: date) -> date | None:
    """The latest due date of a case that is late enough on `on` to be escalated (late = working
    days in (due date, on], 0 when not yet past due, ≥ threshold); None when no date is."""
    if threshold <= 0:
        return due_soon  # every overdue case among those the sweep looks at
    day = on - timedelta(days=1)
    for _ in range(MAX_LOOKBACK_DAYS):  # a few iterations: about threshold working days back
        if calendar.working_days_between(day, on) >= threshold:
            return day
        day -= timedelta(days=1)
    return None


async def _flag(ids: list[int], values: dict, condition) -> list[int]:
    """Set `values` on those of `ids` still matching `condition`; the ids actually changed."""
    changed: list[int] = []
    for start in range(0, len(ids), BATCH):
        rows = await scoped(Case).update(values).where(Case.id.is_in(ids[start:start + BATCH]) & condition).returning(
            Case.id)
        changed += [r["id"] for r in rows]
    return sorted(changed)


async def sweep_tenant(on: date | None = None) -> dict:
    """One pass over the current tenant's open cases with a deadline."""
    on = on or today()
    calendar = await load_calendar()
    threshold = int(tenant_setting("escalate_after_overdue_days", 2))
    due_soon = calendar.add_working_days(on, 1).date
    cutoff = escalation_cutoff(calendar, on, threshold, due_soon)

    with_deadline = Case.status.is_in(OPEN_WITH_DEADLINE) & Case.due_date.is_not_null()
    to_remind = ((Case.due_date == due_soon) & Case.handler.is_not_null()
                 & (Case.reminded_for.is_null() | (Case.reminded_for != due_soon)))
    to_flag_overdue = (Case.due_date < on) & (Case.overdue == False)  # noqa: E712
    wanted = to_remind | to_flag_overdue
    if cutoff is not None:  # overdue (already, or from this run on) and late enough
        wanted = wanted | ((Case.due_date <= cutoff) & (Case.escalated == False)  # noqa: E712
                           & ((Case.overdue == True) | (Case.due_date < on)))  # noqa: E712
    rows = await scoped(Case).select(*FIELDS).where(with_deadline & wanted).order_by(Case.id)
    by_id = {r["id"]: r for r in rows}

    def late(row: dict) -> int:
        return calendar.working_days_between(row["due_date"], on) if row["due_date"] < on else 0

    reminded = await _flag([r["id"] for r in rows if r["due_date"] == due_soon and r["handler"]
                            and r["reminded_for"] != r["due_date"]],
                           {Case.reminded_for: due_soon}, with_deadline & to_remind)
    overdue = await _flag([r["id"] for r in rows if r["due_date"] < on and not r["overdue"]],
                          {Case.overdue: True}, with_deadline & to_flag_overdue)
    candidates = [r for r in rows if not r["escalated"] and (r["overdue"] or r["due_date"] < on)
                  and late(r) >= threshold]
    escalated = await escalate_many(candidates, where=with_deadline & (Case.overdue == True))  # noqa: E712

    # The record: for each case in id order its overdue event, then its escalation.
    newly_overdue, newly_escalated = set(overdue), set(escalated)
    entries = []
    for case_id in sorted(newly_overdue | newly_escalated):
        row = by_id[case_id]
        common = {"case": case_id, "actor": None, "actor_role": "system", "before": row["status"],
                  "after": row["status"]}
        if case_id in newly_overdue:
            entries.append(dict(common, action="overdue", data={"due": str(row["due_date"])}))
        if case_id in newly_escalated:
            entries.append(dict(common, action="escalate", data={"automatic": True, "late_days": late(row),
                                                                 **escalated[case_id].event_data()}))
    if entries:
        await append_events(entries)

    await notices.to_users_many([([by_id[i]["handler"]], by_id[i], DUE_TOMORROW) for i in reminded])
    await notices.to_users_many([([by_id[i]["handler"]] if by_id[i]["handler"] else [], by_id[i], OVERDUE)
                                 for i in overdue])
    await notices.to_role_many("dispatcher", None, [by_id[i] for i in overdue], OVERDUE)
    await tally.refresh(newly_overdue | newly_escalated)
    return {"reminded": len(reminded), "overdue": len(overdue), "escalated": len(escalated)}
