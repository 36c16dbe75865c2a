"""The working-day calendar (工作日): State Council holidays, adjusted workdays (调休), overrides."""

import subprocess
import sys
from datetime import date

import pytest

from core.workdays import (
    CalendarFileError,
    DueDate,
    WorkCalendar,
    invalidate,
    load_calendar,
    load_overrides,
    parse_overrides,
)
from core.workdays.tables import CalendarOverride, CalendarYear
from tests.conftest import ROOT

EXAMPLE_2027 = ROOT / "core" / "workdays" / "examples" / "2027.toml"


def qinqing(*args):
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, capture_output=True, text=True)


async def remove_2027():
    in_2027 = (CalendarOverride.day >= date(2027, 1, 1)) & (CalendarOverride.day <= date(2027, 12, 31))
    await CalendarOverride.delete().where(in_2027)
    await CalendarYear.delete().where(CalendarYear.year == 2027)
    invalidate()


@pytest.fixture
async def loaded_2027():
    """The example 2027 file loaded; removed again afterwards (overrides are global)."""
    summary = await load_overrides(EXAMPLE_2027.read_text(encoding="utf-8"))
    yield summary
    await remove_2027()


@pytest.fixture
async def no_2027():
    await remove_2027()
    yield
    await remove_2027()


@pytest.fixture
def cal():
    return WorkCalendar()


# -- 2025 from chinese_calendar ------------------------------------------------------------------

def test_national_day_2025(cal):
    for day in range(1, 9):
        assert cal.is_workday(date(2025, 10, day)) == (False, True)
    assert cal.is_workday(date(2025, 9, 28)) == (True, True)    # Sunday, adjusted workday
    assert cal.is_workday(date(2025, 10, 11)) == (True, True)   # Saturday, adjusted workday
    assert cal.is_workday(date(2025, 10, 12)) == (False, True)  # an ordinary Sunday
    assert cal.add_working_days(date(2025, 9, 30), 1) == DueDate(date(2025, 10, 9), True)
    assert cal.add_working_days(date(2025, 9, 30), 3) == DueDate(date(2025, 10, 11), True)
    assert cal.add_working_days(date(2025, 9, 26), 1) == DueDate(date(2025, 9, 28), True)  # Sunday counts
    assert cal.add_working_days(date(2025, 9, 26), 3) == DueDate(date(2025, 9, 30), True)
    assert cal.add_working_days(date(2025, 9, 25), 5) == DueDate(date(2025, 10, 9), True)


def test_spring_festival_2025(cal):
    for day in (date(2025, 1, 28), date(2025, 1, 31), date(2025, 2, 3), date(2025, 2, 4)):
        assert cal.is_workday(day) == (False, True)
    assert cal.is_workday(date(2025, 1, 26)) == (True, True)    # Sunday, adjusted workday
    assert cal.is_workday(date(2025, 2, 8)) == (True, True)     # Saturday, adjusted workday
    assert cal.add_working_days(date(2025, 1, 24), 1) == DueDate(date(2025, 1, 26), True)
    assert cal.add_working_days(date(2025, 1, 27), 1) == DueDate(date(2025, 2, 5), True)
    assert cal.add_working_days(date(2025, 1, 27), 4) == DueDate(date(2025, 2, 8), True)
    assert cal.add_working_days(date(2025, 1, 27), 5) == DueDate(date(2025, 2, 10), True)


def test_zero_days_and_helpers(cal):
    assert cal.add_working_days(date(2025, 10, 1), 0) == DueDate(date(2025, 10, 1), True)
    assert cal.next_workday(date(2025, 9, 30)) == DueDate(date(2025, 10, 9), True)
    assert cal.previous_workday(date(2025, 10, 9)) == DueDate(date(2025, 9, 30), True)
    assert cal.previous_workday(date(2025, 9, 29)) == DueDate(date(2025, 9, 28), True)
    with pytest.raises(ValueError):
        cal.add_working_days(date(2025, 10, 1), -1)


def test_working_days_between(cal):
    assert cal.working_days_between(date(2025, 9, 30), date(2025, 10, 9)) == 1
    assert cal.working_days_between(date(2025, 9, 27), date(2025, 10, 12)) == 6   # Sep 28–30, Oct 9–11
    assert cal.working_days_between(date(2025, 10, 12), date(2025, 9, 27)) == -6
    assert cal.working_days_between(date(2025, 10, 9), date(2025, 10, 9)) == 0
    assert cal.working_days_between(date(2024, 12, 31), date(2025, 12, 31)) == 248  # 261 weekdays − 18 holidays + 5 调休
    for n in (1, 7, 30, 250, 600):
        due = cal.add_working_days(date(2025, 1, 20), n)
        assert cal.working_days_between(date(2025, 1, 20), due.date) == n


# -- beyond chinese_calendar ---------------------------------------------------------------------------

def test_2027_falls_back_to_monday_to_friday_unconfirmed(cal):
    assert cal.is_workday(date(2027, 1, 1)) == (True, False)    # a Friday
    assert cal.is_workday(date(2027, 1, 2)) == (False, False)   # a Saturday
    assert cal.add_working_days(date(2026, 12, 28), 3) == DueDate(date(2026, 12, 31), True)
    assert cal.add_working_days(date(2026, 12, 30), 3) == DueDate(date(2027, 1, 4), False)
    assert cal.add_working_days(date(2026, 12, 31), 1) == DueDate(date(2027, 1, 1), False)


async def test_loaded_override_file_confirms_2027_and_honours_its_holidays(no_2027):
    before = await load_calendar()
    assert before.add_working_days(date(2026, 12, 30), 3) == DueDate(date(2027, 1, 4), False)
    summary = await load_overrides(EXAMPLE_2027.read_text(encoding="utf-8"))
    assert summary["year"] == 2027 and summary["holidays"] == 29 and summary["workdays"] == 5
    after = await load_calendar()
    assert after is not before
    assert after.is_workday(date(2027, 1, 1)) == (False, True)
    assert after.add_working_days(date(2026, 12, 30), 3) == DueDate(date(2027, 1, 5), True)
    assert after.add_working_days(date(2027, 2, 4), 1) == DueDate(date(2027, 2, 15), True)
    assert after.is_workday(date(2027, 2, 20)) == (True, True)  # Saturday, adjusted workday
    assert after.is_workday(date(2027, 3, 6)) == (False, True)  # an ordinary Saturday, now confirmed
    assert await load_calendar() is after                        # cached


async def test_reloading_a_year_replaces_its_overrides(loaded_2027):
    text = 'year = 2027\nholidays = ["2027-01-01"]\nworkdays = []\n'
    summary = await load_overrides(text)
    assert summary["replaced"] == 34
    assert await CalendarOverride.count() == 1 + await CalendarOverride.count().where(
        CalendarOverride.day < date(2027, 1, 1))
    cal = await load_calendar()
    assert cal.is_workday(date(2027, 2, 8)) == (True, True)
    assert await CalendarYear.count().where(CalendarYear.year == 2027) == 1


@pytest.mark.parametrize("broken, field", [
    ('year = 2027\nholidays = ["2027-02-30"]\n', "holidays[0]"),
    ('year = 2027\nholidays = ["2027-01-01", "2026-10-01"]\n', "holidays[1]"),
    ('year = 2027\nholidays = ["2027-01-01"]\nworkdays = ["2027-01-01"]\n', "workdays[0]"),
    ('year = 2027\nholidays = ["2027-01-01"]\nworkdays = "2027-01-31"\n', "workdays"),
    ('year = "2027"\nholidays = ["2027-01-01"]\n', "year"),
    ('holidays = ["2027-01-01"]\n', "year"),
    ('year = 2027\n', "holidays"),
    ('year = 2027\nholidays = [20270101]\n', "holidays[0]"),
    ('year = 2027\nholidays = ["2027-01-01"]\nsource = 7\n', "source"),
    ('year = 2027\nholidays = ["2027-01-01"]\nholiday = ["2027-01-02"]\n', "holiday"),
    ('year = 2027\nholidays = ["2027-01-01"', "TOML"),
])
async def test_bad_override_file_names_the_field_and_writes_nothing(no_2027, broken, field):
    rows = await CalendarOverride.count()
    with pytest.raises(CalendarFileError) as info:
        await load_overrides(broken)
    assert any(p.startswith(field) for p in info.value.problems), info.value.problems
    assert await CalendarOverride.count() == rows
    assert await CalendarYear.count().where(CalendarYear.year == 2027) == 0


def test_every_problem_is_listed_at_once():
    with pytest.raises(CalendarFileError) as info:
        parse_overrides('year = 2027\nholidays = ["2027-13-01", "2028-01-01"]\nworkdays = ["x"]\n')
    assert len(info.value.problems) == 3


def test_example_file_parses():
    parsed = parse_overrides(EXAMPLE_2027.read_text(encoding="utf-8"))
    assert parsed.year == 2027 and date(2027, 10, 1) in parsed.holidays
    assert all(d.weekday() >= 5 for d in parsed.workdays)


# -- the command --------------------------------------------------------------------------------------

def test_cli_due_confirmed():
    done = qinqing("calendar", "due", "2025-09-30", "3")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2025-10-11 confirmed"


async def test_cli_due_unconfirmed_then_load(no_2027, tmp_path):
    done = qinqing("calendar", "due", "2027-01-07", "1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2027-01-08 unconfirmed (Monday–Friday fallback: the calendar does not cover 2027)"
    done = qinqing("calendar", "load", str(EXAMPLE_2027))
    assert done.returncode == 0, done.stderr
    assert "calendar 2027 loaded" in done.stdout and "29 holidays" in done.stdout
    done = qinqing("calendar", "due", "2027-02-04", "1")
    assert done.stdout.strip() == "2027-02-15 confirmed"
    bad = tmp_path / "bad.toml"
    bad.write_text('year = 2028\nholidays = ["2028-02-31"]\n', encoding="utf-8")
    done = qinqing("calendar", "load", str(bad))
    assert done.returncode == 1 and "holidays[0]" in done.stderr and "nothing was loaded" in done.stderr
    assert await CalendarYear.count().where(CalendarYear.year == 2028) == 0


@pytest.mark.parametrize("args, word", [
    (("2025-02-30", "3"), "DATE"),
    (("30/09/2025", "3"), "DATE"),
    (("2025-09-30", "three"), "N"),
    (("2025-09-30", "-1"), "N"),
])
def test_cli_due_rejects_bad_arguments(args, word):
    done = qinqing("calendar", "due", *args)
    assert done.returncode == 2 and f"argument {word}" in done.stderr, done.stderr
