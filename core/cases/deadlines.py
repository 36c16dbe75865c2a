"""Deadline jobs (期限管理): a reminder one working day before the due date, the overdue flag, and
automatic escalation (提级办理) once a case is overdue by the tenant's number of working days.
Run by the scheduler every hour; each effect is recorded once (flags on the case), so reruns and
overlapping runs change nothing.

Set-based: one query reads only the cases with something to do (and only the columns needed), so
a rerun on the same day reads nothing.  The writes then go a step of `STEP` cases at a time, each
step its own transaction when the sweep runs on its own (the scheduler's `in_steps`: SQLite's one
writer is never held for a whole tenant), or inside the caller's.  In a step each flag is set by
one `UPDATE … WHERE id in (the step's ids) AND <not yet done> RETURNING id, status` (the escalation
with its targets joined from the list), and only the ids an update returns get their events (one
batch on the chain, in case order) and notices (one batch) — two overlapping runs, or a run and a
user's step, never both record one effect.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from datetime import date, timedelta

from core.cases import states as S
from core.cases.access import members_with_role
from core.cases.audit import append_many
from core.cases.escalation import reach_many
from core.cases.steps import ESCALATED_TO_YOU
from core.cases.tables import Case
from core.clock import today
from core.db import current_engine, in_transaction
from core.i18n import N_
from core.outbox import enqueue_bulk
from core.oversight import tally
from core.scope import current_tenant, scoped, tenant_scope
from core.tenant_settings import tenant_setting
from core.workdays import load_calendar

OPEN_WITH_DEADLINE = list(S.WITH_DEADLINE)
STEP = 2000  # cases written per transaction
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


def _step(write: bool = True):
    """The transaction of one step: the caller's when it has one, else a scope of the tenant."""
    return nullcontext() if in_transaction() else tenant_scope(current_tenant(), write=write)


def _listed(column: str, values: list, pg_type: str) -> tuple[str, object]:
    """`column` among `values`, as SQL with one placeholder, and that placeholder's argument."""
    if current_engine().engine_type == "postgres":
        return f"{column} = ANY({{}}::{pg_type}[])", list(values)
    return f"{column} IN (SELECT value FROM json_each({{}}))", json.dumps(list(values))


async def _flag(set_sql: str, set_args: list, ids: list[int], condition: str, condition_args: list,
                joined: list[tuple[int, int]] | None = None) -> dict[int, str]:
    """Set `set_sql` on those of `ids` (or of `joined`'s (id, target) pairs, the target as
    `v.target`) still open with a deadline and matching `condition`; their status, by id."""
    if not ids and not joined:
        return {}
    in_status, statuses = _listed("status", OPEN_WITH_DEADLINE, "text")
    source, args = "", list(set_args)
    if joined is None:
        in_ids, id_arg = _listed("id", ids, "integer")
    elif current_engine().engine_type == "postgres":
        source, in_ids, id_arg = " FROM unnest({}::integer[], {}::integer[]) AS v(cid, target)", "id = v.cid", None
        args += [[i for i, _ in joined], [t for _, t in joined]]
    else:
        source = (" FROM (SELECT json_extract(value, '$[0]') AS cid, json_extract(value, '$[1]') AS target"
                  " FROM json_each({})) AS v")
        in_ids, id_arg = "id = v.cid", None
        args.append(json.dumps(joined))
    sql = (f"UPDATE case_file SET {set_sql}{source} WHERE tenant_id = {{tenant}} AND {in_ids} AND {in_status} "
           f"AND due_date IS NOT NULL AND {condition} RETURNING id, status")
    args += [*([] if id_arg is None else [id_arg]), statuses, *condition_args]
    return {r["id"]: r["status"] for r in await scoped(Case).raw(sql, *args)}


def _notice(user_id: int, row: dict, message: str) -> dict:
    """A notice of `row`'s case as `core.cases.notices` queues it."""
    return {"user_id": user_id, "kind": "case", "title": message, "link": f"cases/{row['id']}",
            "params": {"number": row["number"]}}


async def sweep_tenant(on: date | None = None) -> dict:
    """One pass over the current tenant's open cases with a deadline."""
    on = on or today()
    async with _step(write=False):
        calendar = await load_calendar()
        threshold = int(tenant_setting("escalate_after_overdue_days", 2))
        due_soon = calendar.add_working_days(on, 1).date
        cutoff = escalation_cutoff(calendar, on, threshold, due_soon)

        with_deadline = Case.status.is_in(OPEN_WITH_DEADLINE) & Case.due_date.is_not_null()
        to_remind = ((Case.due_date == due_soon) & Case.handler.is_not_null()
                     & (Case.reminded_for.is_null() | (Case.reminded_for != due_soon)))
        wanted = to_remind | ((Case.due_date < on) & (Case.overdue == False))  # noqa: E712
        if cutoff is not None:  # overdue (already, or from this run on) and late enough
            wanted = wanted | ((Case.due_date <= cutoff) & (Case.escalated == False)  # noqa: E712
                               & ((Case.overdue == True) | (Case.due_date < on)))  # noqa: E712
        rows = await scoped(Case).select(*FIELDS).where(with_deadline & wanted).order_by(Case.id)
        late = {r["id"]: calendar.working_days_between(r["due_date"], on) if r["due_date"] < on else 0
                for r in rows}
        escalating = [r for r in rows if not r["escalated"] and late[r["id"]] >= threshold
                      and (r["overdue"] or r["due_date"] < on)]
        reached = await reach_many([r["department"] for r in escalating]) if escalating else {}
        dispatchers = await members_with_role("dispatcher") if any(
            r["due_date"] < on and not r["overdue"] for r in rows) else []

    done = {"reminded": 0, "overdue": 0, "escalated": 0}
    for start in range(0, len(rows), STEP):
        async with _step():
            counts = await _write(rows[start:start + STEP], on, due_soon, threshold, late, reached, dispatchers)
        for key, count in counts.items():
            done[key] += count
    return done


async def _write(rows: list[dict], on: date, due_soon: date, threshold: int, late: dict[int, int],
                 reached: dict, dispatchers: list[int]) -> dict:
    """One step: flag, record and notify these rows' cases."""
    reminded = await _flag("reminded_for = {}", [due_soon],
                           [r["id"] for r in rows if r["due_date"] == due_soon and r["handler"]
                            and r["reminded_for"] != r["due_date"]],
                           "due_date = {} AND handler IS NOT NULL AND (reminded_for IS NULL OR reminded_for <> {})",
                           [due_soon, due_soon])
    overdue = await _flag("overdue = {}", [True], [r["id"] for r in rows if r["due_date"] < on and not r["overdue"]],
                          "due_date < {} AND overdue = {}", [on, False])
    targets = [(r["id"], reached[r["department"]].users[0]) for r in rows
               if r["id"] in late and late[r["id"]] >= threshold and not r["escalated"]
               and (r["overdue"] or r["due_date"] < on) and reached.get(r["department"])
               and reached[r["department"]].users]
    escalated = await _flag("escalated = {}, escalated_to = v.target", [True], [], "escalated = {} AND overdue = {}",
                            [False, True], joined=targets) if targets else {}

    # The record: for each case in id order its overdue event, then its escalation.
    entries, notices = [], []
    for row in rows:
        case_id = row["id"]
        if case_id in overdue:
            status = overdue[case_id]
            entries.append({"case": case_id, "actor": None, "actor_role": "system", "before": status,
                            "after": status, "action": "overdue", "data": {"due": str(row["due_date"])}})
        if case_id in escalated:
            status, reach = escalated[case_id], reached[row["department"]]
            entries.append({"case": case_id, "actor": None, "actor_role": "system", "before": status,
                            "after": status, "action": "escalate",
                            "data": {"automatic": True, "late_days": late[case_id], **reach.event_data()}})
    if entries:
        await append_many(entries)

    by_id = {r["id"]: r for r in rows}
    for case_id in sorted(escalated):
        row = by_id[case_id]
        notices += [_notice(user, row, ESCALATED_TO_YOU) for user in sorted(set(reached[row["department"]].users))]
    notices += [_notice(by_id[i]["handler"], by_id[i], DUE_TOMORROW) for i in sorted(reminded)]
    notices += [_notice(by_id[i]["handler"], by_id[i], OVERDUE) for i in sorted(overdue) if by_id[i]["handler"]]
    notices += [_notice(user, by_id[i], OVERDUE) for i in sorted(overdue) for user in sorted(set(dispatchers))]
    await enqueue_bulk("deliver_notification", notices)
    await tally.flags_changed(sorted(set(overdue) | set(escalated)))
    return {"reminded": len(reminded), "overdue": len(overdue), "escalated": len(escalated)}
