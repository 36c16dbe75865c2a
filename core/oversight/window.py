"""The red flag over a period (预警的统计期) and the trend since launch (上线以来).

A refusal is suspect when it stands: the refusal flag (`core.oversight.flags`) counts, over the
cases submitted in the last `red_flag_window_days` days (a tenant setting, 90 by default), the
refusals that stood after review — a case refused more times than it was re-dispatched (an
overturn on review re-dispatches it, and so does a bulk 二次交办).  So the flag lights while
refusals go unchallenged and goes out once they are overturned, or once the window has moved past
them.

Since launch: with the tenant setting `launched_on` (YYYY-MM-DD), the average working days from
submission to closing of each month since the launch month (by the month a case was submitted, over
the cases completed), and the first month with completions against the last (the article's
12.84 days at launch → 2.76).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from core.cases import states as S
from core.cases.audit import KeptUntilChange
from core.cases.tables import Case
from core.clock import TZ, today
from core.oversight.figures import DepartmentKey, Tally
from core.scope import scoped
from core.tenant_settings import tenant_setting

DEFAULT_DAYS = 90


@dataclass
class RefusalWindow:
    """Counts over the window: `reported`, `refused` (refusals that stood), `rated`, `satisfied`,
    for the tenant (`total`) and by department id."""

    days: int
    since: date
    total: Tally
    departments: dict[DepartmentKey, Tally]  # by department id


def window_days() -> int:
    try:
        return max(1, int(tenant_setting("red_flag_window_days", DEFAULT_DAYS)))
    except (TypeError, ValueError):
        return DEFAULT_DAYS


def stood(refused_count: int | None, redispatch_count: int | None) -> bool:
    """Whether a case's refusal stands: refused more often than it was re-dispatched."""
    return (refused_count or 0) > (redispatch_count or 0)


_kept = KeptUntilChange(entries=1024, seconds=60.0)


async def refusal_window() -> RefusalWindow:
    """The current tenant's counts over its window (kept until its record moves, or a minute)."""
    days = window_days()
    return await _kept.get(("window", days, today()), lambda: _read(days))


async def _read(days: int) -> RefusalWindow:
    since = today() - timedelta(days=days - 1)
    start = datetime.combine(since, time.min, tzinfo=TZ)
    rows = await scoped(Case).select(Case.department, Case.refused_count, Case.redispatch_count, Case.rating).where(
        (Case.submitted_at >= start) & (Case.status != S.MERGED))
    total = Tally()
    departments: dict[DepartmentKey, Tally] = {}
    for row in rows:
        t = Tally()
        t.counts["reported"] = 1
        t.counts["refused"] = int(stood(row["refused_count"], row["redispatch_count"]))
        if row["rating"]:
            t.counts["rated"] = 1
            t.counts["satisfied"] = int(row["rating"] in ("satisfied", "basically_satisfied"))
        total.add(t)
        if row["department"]:
            departments.setdefault(row["department"], Tally()).add(t)
    return RefusalWindow(days, since, total, departments)


def launched_on() -> date | None:
    value = str(tenant_setting("launched_on", "") or "").strip()
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def since_launch(months: dict[str, Tally]) -> dict | None:
    """Average working days to completion by month since the launch, and the first month with
    completions against the last; None without a launch date."""
    launch = launched_on()
    if launch is None:
        return None
    first_month = launch.strftime("%Y-%m")
    rows = []
    for month in sorted(m for m in months if m >= first_month):
        tally = months[month]
        rows.append({"month": month, "completed": tally["days_count"],
                     "avg_days": round(tally["days_total"] / tally["days_count"], 2) if tally["days_count"] else None})
    measured = [r for r in rows if r["avg_days"] is not None]
    return {"launched_on": launch.isoformat(), "months": rows,
            "first": measured[0] if measured else None, "last": measured[-1] if len(measured) > 1 else None}


def clear_cache() -> None:
    """For paths that rewrite cases without events (tests, bulk loads)."""
    _kept.clear()
