"""The figures of the big screen (大屏) for one tenant, from its case record.

Everything is kept as raw counts (numerators and denominators), so a district's roll-up is the
exact sum of its townships' figures, never an average of rates.

Definitions (shown on the screen):
- reported: every case except merged duplicates;  completed (办结): closed;  in progress: open;
- response rate (响应率): dispatched cases accepted within 1 working day of dispatch / dispatched;
- resolution rate (解决率): cases resolved by the department and not rated "unsatisfied" /
  cases that reached an outcome (resolved, or closed, including refusals upheld on review);
- satisfaction rate (满意率): "satisfied" + "basically satisfied" / rated cases;
- average working days to completion: from submission to closing, on the working-day calendar.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TypeAlias, Union

from piccolo.query.functions.aggregate import Sum

from core.cases import states as S
from core.cases.audit import KeptUntilChange
from core.cases.tables import Case
from core.clock import local_date
from core.names import LocalName
from core.scope import scoped
from core.tables import Department, User

COUNTERS = ("reported", "completed", "in_progress", "overdue", "escalated", "refused", "reviewed", "overturned",
            "dispatched", "responded", "outcomes", "solved", "rated", "satisfied", "days_total", "days_count")


@dataclass
class Tally:
    """Raw counters of a set of cases (one case's, or a sum)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))

    def add(self, other: "Tally") -> "Tally":
        for key, value in other.counts.items():
            self.counts[key] += value
        return self

    def __getitem__(self, key: str) -> int:
        return self.counts[key]

    @staticmethod
    def _rate(num: int, den: int) -> float | None:
        return round(num / den, 4) if den else None

    def rates(self) -> dict[str, float | None]:
        c = self.counts
        return {
            "response_rate": self._rate(c["responded"], c["dispatched"]),
            "resolution_rate": self._rate(c["solved"], c["outcomes"]),
            "satisfaction_rate": self._rate(c["satisfied"], c["rated"]),
            "refusal_rate": self._rate(c["refused"], c["reported"]),
            "overturn_rate": self._rate(c["overturned"], c["refused"]),
            "avg_days": round(c["days_total"] / c["days_count"], 2) if c["days_count"] else None,
        }

    def as_dict(self) -> dict:
        return {**self.counts, **self.rates()}


DepartmentKey: TypeAlias = Union[int, str, tuple[str, "DepartmentKey"]]
"""What `Figures.departments` is keyed by: a department's id; summed over tenants, a district's slug
(the city's figures, `core.oversight.city`) or (township slug, its key) (`core.oversight.screen`)."""


@dataclass
class Figures:
    total: Tally
    departments: dict[DepartmentKey, Tally]
    months: dict[str, Tally]
    townships: dict[str, Tally]
    handlers_overdue: dict[int, int]
    department_names: dict[DepartmentKey, str]
    handler_names: dict[int, str]

    def add(self, other: "Figures") -> "Figures":
        self.total.add(other.total)
        for key, tally in other.months.items():
            self.months.setdefault(key, Tally()).add(tally)
        for key, tally in other.townships.items():
            self.townships.setdefault(key, Tally()).add(tally)
        return self


COLUMNS = (Case.status, Case.department, Case.handler, Case.submitted_at, Case.dispatched_at, Case.accepted_at,
           Case.closed_at, Case.resolved_at, Case.rating, Case.overdue, Case.escalated, Case.refused_count,
           Case.overturned, Case.company.township.as_alias("township"))


# A department's name changes without a case step: 60 s bounds how long an old one is shown.
_kept = KeptUntilChange(entries=4096, seconds=60.0)


async def tenant_figures(only_month: str | None = None) -> Figures:
    """The current tenant's figures (call inside its scope); `only_month` (YYYY-MM) limits them to
    the cases submitted that month.  Treat the result as read-only: it is shared.

    Kept per process until the tenant's record moves on (`audit.KeptUntilChange`); `clear_cache()`
    covers the bulk paths that rewrite the tally without events.  A big screen watched by many, or
    a district's roll-up of ten townships, costs a read of each chain head."""
    return await _kept.get((only_month,), lambda: _read_figures(only_month))


def clear_cache() -> None:
    _kept.clear()


async def _read_figures(only_month: str | None) -> Figures:
    """Read from the per-case tally rows (`core.oversight.tally`), summed by month × department ×
    township in the database."""
    from core.oversight.tables import CaseTally

    sums = [Sum(getattr(CaseTally, key), alias=key) for key in COUNTERS]
    query = scoped(CaseTally).select(CaseTally.month, CaseTally.department, CaseTally.township, *sums).group_by(
        CaseTally.month, CaseTally.department, CaseTally.township)
    overdue = scoped(CaseTally).select(CaseTally.handler, Sum(CaseTally.overdue, alias="n")).where(
        (CaseTally.overdue > 0) & CaseTally.handler.is_not_null()).group_by(CaseTally.handler)
    if only_month:
        query, overdue = query.where(CaseTally.month == only_month), overdue.where(CaseTally.month == only_month)
    total = Tally()
    departments: defaultdict[DepartmentKey, Tally] = defaultdict(Tally)
    months: defaultdict[str, Tally] = defaultdict(Tally)
    townships: defaultdict[str, Tally] = defaultdict(Tally)
    for row in await query:
        tally = Tally({key: int(row[key] or 0) for key in COUNTERS})
        total.add(tally)
        if row["department"]:
            departments[row["department"]].add(tally)
        months[row["month"]].add(tally)
        townships[row["township"] or "—"].add(tally)
    handlers_overdue = {r["handler"]: int(r["n"]) for r in await overdue}
    dept_names: dict[DepartmentKey, str] = {r["id"]: LocalName(r["name_zh"], r["name_en"])  # shared by every locale: localized where shown
                  for r in await scoped(Department).select(Department.id, Department.name_zh, Department.name_en)}
    handler_names = {r["id"]: r["display_name"] for r in await User.select(User.id, User.display_name).where(
        User.id.is_in(list(handlers_overdue)))} if handlers_overdue else {}
    return Figures(total, dict(departments), dict(sorted(months.items())), dict(townships), handlers_overdue,
                   dept_names, handler_names)


def tally_row(row: dict, calendar, reviewed: bool) -> Tally:
    t = Tally()
    c = t.counts
    status = row["status"]
    c["reported"] = 1
    c["completed"] = int(status == S.CLOSED)
    c["in_progress"] = int(status in S.OPEN)
    c["overdue"] = int(bool(row["overdue"]) and status in S.OPEN)
    c["escalated"] = int(bool(row["escalated"]))
    c["refused"] = int((row["refused_count"] or 0) > 0)
    c["reviewed"] = int(reviewed)
    c["overturned"] = int(bool(row["overturned"]))
    if row["dispatched_at"]:
        c["dispatched"] = 1
        if row["accepted_at"]:
            late = calendar.working_days_between(local_date(row["dispatched_at"]), local_date(row["accepted_at"]))
            c["responded"] = int(late <= 1)
    if row["resolved_at"] or status == S.CLOSED:
        c["outcomes"] = 1
        c["solved"] = int(bool(row["resolved_at"]) and row["rating"] != "unsatisfied")
    if row["rating"]:
        c["rated"] = 1
        c["satisfied"] = int(row["rating"] in ("satisfied", "basically_satisfied"))
    if status == S.CLOSED and row["closed_at"]:
        c["days_total"] = max(0, calendar.working_days_between(local_date(row["submitted_at"]),
                                                               local_date(row["closed_at"])))
        c["days_count"] = 1
    return t
