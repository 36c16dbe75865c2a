"""Time in UTC, and reading stored times (SQLite gives text, PostgreSQL datetimes)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import overload
from zoneinfo import ZoneInfo


def now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(timezone.utc)


@overload
def as_utc(value: datetime | str) -> datetime: ...
@overload
def as_utc(value: datetime | str | None) -> datetime | None: ...


def as_utc(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


TZ = ZoneInfo("Asia/Shanghai")


def today() -> date:
    """Today's date in China (deadlines are counted in Beijing time)."""
    return now().astimezone(TZ).date()


@overload
def local_date(value: datetime | str) -> date: ...
@overload
def local_date(value: datetime | str | None) -> date | None: ...


def local_date(value: datetime | str | None) -> date | None:
    """The date in China of a moment (None for none)."""
    value = as_utc(value)
    return value.astimezone(TZ).date() if value else None
