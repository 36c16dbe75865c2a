"""Keeping each case's contribution to the figures current (统计预汇总).

`refresh(case_ids)` is called in the transaction of every change to a case (submission, each step,
the deadline sweep); it recomputes those cases' rows in `case_tally` from the case record, so the
figures read a few grouped sums instead of every case.  `rebuild()` recomputes a whole tenant (after
a bulk load, or by `qinqing figures rebuild`).
"""

from __future__ import annotations

import json
from typing import Iterable

from core.cases import states as S
from core.cases.tables import Case, Review
from core.clock import local_date
from core.db import current_engine
from core.oversight.figures import COLUMNS, COUNTERS, clear_cache, tally_row
from core.oversight.tables import CaseTally
from core.prepared import Inserted
from core.scope import scoped
from core.workdays import load_calendar

BATCH = 1000


async def refresh(case_ids: Iterable[int]) -> None:
    """Recompute the tally rows of these cases of the current tenant."""
    ids = sorted({int(i) for i in case_ids if i})
    if not ids:
        return
    clear_cache()  # this process's figures; other processes see the chain head move with the change
    calendar = await load_calendar()
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        rows = await scoped(Case).select(Case.id, *COLUMNS).where(Case.id.is_in(chunk) & (Case.status != S.MERGED))
        reviewed = {r["case"] for r in await scoped(Review).select(Review.case).where(
            Review.case.is_in(chunk) & (Review.status == "ruled"))}
        await scoped(CaseTally).delete().where(CaseTally.case.is_in(chunk))
        if rows:
            await scoped(CaseTally).insert(*[_tally_values(row, calendar, row["id"] in reviewed) for row in rows])


async def flags_changed(case_ids: list[int]) -> None:
    """`refresh` for cases whose only change is their overdue or escalated flag (the deadline
    sweep): those two counters are set from the case rows in one UPDATE."""
    if not case_ids:
        return
    clear_cache()
    open_states = sorted(S.OPEN)
    ids: object
    states: object
    if current_engine().engine_type == "postgres":
        ids, states, in_ids, in_states = list(case_ids), open_states, "= ANY({}::integer[])", "= ANY({}::text[])"
    else:
        ids, states = json.dumps(list(case_ids)), json.dumps(open_states)
        in_ids = in_states = "IN (SELECT value FROM json_each({}))"
    await scoped(CaseTally).raw(
        "UPDATE case_tally SET overdue = CASE WHEN c.overdue AND c.status " + in_states + " THEN 1 ELSE 0 END, "
        "escalated = CASE WHEN c.escalated THEN 1 ELSE 0 END FROM case_file AS c "
        'WHERE case_tally.tenant_id = {tenant} AND c.tenant_id = {tenant} AND case_tally."case" = c.id '
        "AND c.id " + in_ids,
        states, ids)


async def add_new(case: Case, township: str | None) -> None:
    """The tally row of a case just submitted, from the case itself: nothing to read back (no
    review, no earlier row).  The same values `refresh` would compute."""
    await (await new_row(case, township))


async def new_row(case: Case, township: str | None):
    """`add_new`'s insert, for the caller to run in its transaction (alone or with others)."""
    clear_cache()
    row = {column._meta.name: getattr(case, column._meta.name) for column in COLUMNS if not column._meta.call_chain}
    row.update(id=case.id, township=township)
    return Inserted(CaseTally, scoped(CaseTally).new(**_tally_values(row, await load_calendar(), reviewed=False)))


async def rebuild() -> int:
    """Recompute every tally row of the current tenant; returns the number of cases counted."""
    await scoped(CaseTally).delete()
    clear_cache()
    ids = [r["id"] for r in await scoped(Case).select(Case.id).where(Case.status != S.MERGED)]
    await refresh(ids)
    return len(ids)


async def backfill() -> list[str]:
    """Build the tally of every tenant that has cases but no tally yet (after the upgrade that
    introduced it); returns the slugs rebuilt."""
    from core.scope import tenant_scope
    from core.tenant_registry import all_tenants

    rebuilt = []
    for tenant in await all_tenants():
        async with tenant_scope(tenant):
            if not await scoped(CaseTally).exists() and await scoped(Case).exists():
                await rebuild()
                rebuilt.append(tenant.slug)
    return rebuilt


def _tally_values(row: dict, calendar, reviewed: bool) -> dict:
    counts = tally_row(row, calendar, reviewed).counts
    return {"case": row["id"], "month": local_date(row["submitted_at"]).strftime("%Y-%m"),
            "department": row["department"], "handler": row["handler"], "township": row["township"] or "",
            **{key: counts[key] for key in COUNTERS}}
