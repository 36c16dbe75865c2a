"""The Chinese working-day calendar (工作日): deadlines counted in working days.

Working days follow the State Council's holiday notices, including the adjusted weekend workdays
(调休) that make up for bridged holidays.  Three sources, in order of precedence:

1. an override row (`CalendarOverride`), loaded from a TOML file for a year (`load_overrides`);
2. the `chinese_calendar` package (years 2004–2026 in 1.11.0; it raises NotImplementedError
   beyond);
3. Monday to Friday, as a fallback — such dates are *unconfirmed*.

A date is confirmed when `chinese_calendar` covers its year or its year has been loaded
(`CalendarYear`).  `WorkCalendar` is pure and synchronous; `load_calendar()` builds one from the
database and caches it in the process (`invalidate()` clears the cache; it also expires after
`CACHE_SECONDS`, so a load made by another process is seen without a restart).
"""

from __future__ import annotations

import calendar as _calendar
import time
import tomllib
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from itertools import accumulate

import chinese_calendar

__all__ = [
    "CACHE_SECONDS", "CalendarFileError", "DueDate", "OverrideFile", "WorkCalendar", "invalidate",
    "load_calendar", "load_overrides", "official_year", "parse_overrides",
]

CACHE_SECONDS = 300.0


@dataclass(frozen=True)
class DueDate:
    """A computed date; `confirmed` is False if any day it depends on fell back to Monday–Friday."""

    date: date
    confirmed: bool


@lru_cache(maxsize=None)
def official_year(year: int) -> bytes | None:
    """Working-day flags (1/0) of every day of `year` from `chinese_calendar`, or None if not covered."""
    first = date(year, 1, 1)
    try:
        chinese_calendar.is_workday(first)
    except NotImplementedError:
        return None
    days = 366 if _calendar.isleap(year) else 365
    return bytes(chinese_calendar.is_workday(first + timedelta(days=i)) for i in range(days))


@lru_cache(maxsize=None)
def _weekday_year(year: int) -> bytes:
    first = date(year, 1, 1).weekday()
    days = 366 if _calendar.isleap(year) else 365
    return bytes((first + i) % 7 < 5 for i in range(days))


@dataclass(frozen=True)
class _Year:
    flags: bytes            # 1 = working day, indexed by day of year (0-based)
    prefix: tuple[int, ...]  # prefix[i] = working days among the first i days
    confirmed: bool


class WorkCalendar:
    """Working days from overrides, then `chinese_calendar`, then Monday–Friday (unconfirmed)."""

    def __init__(self, overrides: dict[date, bool] | None = None, loaded_years: set[int] | None = None):
        self.overrides = dict(overrides or {})
        self.loaded_years = frozenset(loaded_years or ())
        self._years: dict[int, _Year] = {}

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        official = official_year(year)
        flags = bytearray(official if official is not None else _weekday_year(year))
        first = date(year, 1, 1).toordinal()
        for day, workday in self.overrides.items():
            if day.year == year:
                flags[day.toordinal() - first] = workday
        built = _Year(bytes(flags), (0, *accumulate(flags)), official is not None or year in self.loaded_years)
        self._years[year] = built
        return built

    def covers(self, year: int) -> bool:
        """True if the dates of `year` are confirmed (official data or a loaded override file)."""
        return self._year(year).confirmed

    def is_workday(self, d: date) -> tuple[bool, bool]:
        """(is it a working day, is that confirmed)."""
        y = self._year(d.year)
        return bool(y.flags[d.toordinal() - date(d.year, 1, 1).toordinal()]), y.confirmed

    def add_working_days(self, start: date, n: int) -> DueDate:
        """The n-th working day after `start` (not counting `start`); n == 0 gives `start` itself."""
        if n < 0:
            raise ValueError("n must be zero or more")
        if n == 0:
            return DueDate(start, True)
        year = start.year
        y = self._year(year)
        index = start.toordinal() - date(year, 1, 1).toordinal()
        need = y.prefix[index + 1] + n
        confirmed = True if index + 1 == len(y.flags) else y.confirmed
        while need > y.prefix[-1]:
            need -= y.prefix[-1]
            year += 1
            y = self._year(year)
            confirmed = confirmed and y.confirmed
        day = bisect_left(y.prefix, need) - 1
        return DueDate(date(year, 1, 1) + timedelta(days=day), confirmed)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative (the count in (end, start]) if end < start."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        for year in range(start.year, end.year):
            count += self._year(year).prefix[-1]
        return count + self._count_to(end) - self._count_to(start)

    def _count_to(self, d: date) -> int:
        """Working days from January 1 of d's year up to and including d."""
        return self._year(d.year).prefix[d.toordinal() - date(d.year, 1, 1).toordinal() + 1]

    def next_workday(self, d: date) -> DueDate:
        """The first working day strictly after `d`."""
        return self.add_working_days(d, 1)

    def previous_workday(self, d: date) -> DueDate:
        """The last working day strictly before `d`."""
        confirmed = True
        while True:
            d -= timedelta(days=1)
            workday, sure = self.is_workday(d)
            confirmed = confirmed and sure
            if workday:
                return DueDate(d, confirmed)


# -- the calendar from the database ----------------------------------------------------------------

_cache: tuple[float, WorkCalendar] | None = None


def invalidate() -> None:
    """Forget the cached calendar; the next `load_calendar()` reads the tables again."""
    global _cache
    _cache = None


async def load_calendar() -> WorkCalendar:
    """The calendar with every override and loaded year from the database (cached per process)."""
    global _cache
    if _cache is not None and time.monotonic() - _cache[0] < CACHE_SECONDS:
        return _cache[1]
    from core.workdays.tables import CalendarOverride, CalendarYear

    rows = await CalendarOverride.select(CalendarOverride.day, CalendarOverride.workday)
    years = await CalendarYear.select(CalendarYear.year)
    built = WorkCalendar({_as_date(r["day"]): bool(r["workday"]) for r in rows}, {r["year"] for r in years})
    _cache = (time.monotonic(), built)
    return built


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# -- override files -----------------------------------------------------------------------------------

class CalendarFileError(ValueError):
    """An override file was rejected; `problems` names each bad field."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class OverrideFile:
    """A validated override file: one year's holidays and adjusted weekend workdays (调休)."""

    year: int
    holidays: tuple[date, ...]
    workdays: tuple[date, ...] = ()
    source: str = ""

    @property
    def overrides(self) -> dict[date, bool]:
        """Each listed date mapped to whether it is a working day."""
        return {d: False for d in self.holidays} | {d: True for d in self.workdays}


_KEYS = {"year", "holidays", "workdays", "source"}


def parse_overrides(text: str) -> OverrideFile:
    """Parse and validate a TOML override file; raise CalendarFileError listing every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CalendarFileError([f"TOML: {exc}"]) from None
    except RecursionError:  # tomllib recurses once per nesting level: bad input, not our fault
        raise CalendarFileError(["TOML: nested too deeply"]) from None
    problems = [f"{key}: unknown field (expected year, holidays, workdays, source)" for key in data
                if key not in _KEYS]
    year = data.get("year")
    if "year" not in data:
        problems.append("year: missing")
        year = None
    elif not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 2199:
        problems.append(f"year: {year!r} is not a year between 1900 and 2199")
        year = None
    source = data.get("source", "")
    if not isinstance(source, str) or len(source) > 200:
        problems.append("source: must be a text of at most 200 characters")
    if "holidays" not in data:
        problems.append("holidays: missing (a list of dates, YYYY-MM-DD)")
    holidays = _dates("holidays", data.get("holidays", []), year, problems)
    workdays = _dates("workdays", data.get("workdays", []), year, problems)
    both = set(holidays) & set(workdays)
    for i, d in enumerate(workdays):
        if d in both:
            problems.append(f"workdays[{i}]: {d} is also listed in holidays")
    if problems:
        raise CalendarFileError(problems)
    assert year is not None  # a missing or bad year is among the problems
    return OverrideFile(year, tuple(sorted(holidays)), tuple(sorted(workdays)), source)


def _dates(name: str, values, year: int | None, problems: list[str]) -> list[date]:
    if not isinstance(values, list):
        problems.append(f"{name}: must be a list of dates (YYYY-MM-DD)")
        return []
    found: list[date] = []
    for i, value in enumerate(values):
        where = f"{name}[{i}]"
        if isinstance(value, date) and not hasattr(value, "hour"):
            d = value
        elif isinstance(value, str) and len(value) == 10:
            try:
                d = date.fromisoformat(value)
            except ValueError:
                problems.append(f"{where}: {value!r} is not a valid date (YYYY-MM-DD)")
                continue
        else:
            problems.append(f"{where}: {value!r} is not a date (YYYY-MM-DD)")
            continue
        if year is not None and d.year != year:
            problems.append(f"{where}: {d} is not in {year}")
        elif d in found:
            problems.append(f"{where}: {d} is listed twice")
        else:
            found.append(d)
    return found


async def load_overrides(text: str) -> dict:
    """Replace a year's overrides with those of an override file, in one transaction.

    Validates first (raising CalendarFileError, writing nothing), then deletes the year's override
    rows and `CalendarYear` row, inserts the new ones and clears the cached calendar.
    """
    from core.db import write_transaction
    from core.workdays.tables import CalendarOverride, CalendarYear

    parsed = parse_overrides(text)
    first, last = date(parsed.year, 1, 1), date(parsed.year, 12, 31)
    in_year = (CalendarOverride.day >= first) & (CalendarOverride.day <= last)
    async with write_transaction():
        replaced = await CalendarOverride.count().where(in_year)
        await CalendarOverride.delete().where(in_year)
        await CalendarYear.delete().where(CalendarYear.year == parsed.year)
        rows = [CalendarOverride(day=d, workday=w, note="adjusted workday (调休)" if w else "holiday")
                for d, w in sorted(parsed.overrides.items())]
        if rows:
            await CalendarOverride.insert(*rows)
        await CalendarYear.insert(CalendarYear(year=parsed.year, source=parsed.source))
    invalidate()
    return {"year": parsed.year, "holidays": len(parsed.holidays), "workdays": len(parsed.workdays),
            "replaced": replaced, "source": parsed.source}
