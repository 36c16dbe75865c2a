"""`qinqing calendar due DATE N | load FILE`: working-day deadlines and the override files."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
from pathlib import Path


def _date(text: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of working days (0 or more)")
    return n


def cmd_due(args) -> None:
    """Print the N-th working day after DATE, and whether the calendar confirms it."""
    from datetime import timedelta

    from core.db import check_reachable, current_engine
    from core.workdays import load_calendar

    async def run():
        await check_reachable(current_engine())
        return await load_calendar()

    cal = asyncio.run(run())
    try:
        due = cal.add_working_days(args.date, args.n)
    except (OverflowError, ValueError):
        print("error: N: the deadline falls beyond the year 9999", file=sys.stderr)
        raise SystemExit(2)
    if due.confirmed:
        print(f"{due.date} confirmed")
        return
    years = [y for y in range((args.date + timedelta(days=1)).year, due.date.year + 1) if not cal.covers(y)]
    print(f"{due.date} unconfirmed (Monday–Friday fallback: the calendar does not cover "
          f"{', '.join(map(str, years))})")


def cmd_load(args) -> None:
    """Load a year's override file (holidays and adjusted workdays), replacing that year's."""
    from core.db import check_reachable, current_engine
    from core.workdays import CalendarFileError, load_overrides

    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except FileNotFoundError:
        print(f"error: no such file: {args.file}", file=sys.stderr)
        raise SystemExit(1)

    async def run():
        await check_reachable(current_engine())
        return await load_overrides(text)

    try:
        summary = asyncio.run(run())
    except CalendarFileError as exc:
        print("error: the calendar file was rejected, nothing was loaded:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        raise SystemExit(1)
    source = f" from {summary['source']}" if summary["source"] else ""
    print(f"calendar {summary['year']} loaded{source}: {summary['holidays']} holidays, "
          f"{summary['workdays']} adjusted workdays ({summary['replaced']} earlier rows replaced)")


def register(sub) -> None:
    """Add the `calendar` command to the `qinqing` parser's subcommands."""
    p = sub.add_parser("calendar", help="working-day calendar (工作日, 调休)")
    csub = p.add_subparsers(dest="calendar_command", required=True)
    a = csub.add_parser("due", help="the N-th working day after DATE")
    a.add_argument("date", metavar="DATE", type=_date, help="YYYY-MM-DD")
    a.add_argument("n", metavar="N", type=_count, help="working days (0 or more)")
    a.set_defaults(func=cmd_due)
    a = csub.add_parser("load", help="load a year's holidays and adjusted workdays from a TOML file")
    a.add_argument("file", metavar="FILE")
    a.set_defaults(func=cmd_load)
