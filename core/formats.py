"""Dates, moments and message parameters in the reader's locale (Babel): one format per locale
(interface.md, Formats), for pages, notifications and e-mail alike."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache, lru_cache

from babel import Locale
from babel.dates import format_skeleton

from core.clock import TZ, as_utc
from core.i18n import current_locale


@cache
def babel_locale(name: str) -> Locale:
    """Babel parses a locale name on every call; a page formats dozens of dates."""
    return Locale.parse(name)


# One date, date-time, month and number format per locale (interface.md, Formats): zh-CN
# 2026年12月6日 · 2026年12月6日 14:30 · 2026年12月 · 1,234; en Dec 6, 2026 · Dec 6, 2026, 14:30 · Dec 2026.
DATE_SKELETON, MONTH_SKELETON = "yMMMd", "yMMM"
TIME_PATTERN = "HH:mm"


def _as_date(value) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return as_utc(value).astimezone(TZ).date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def datetime_filter(value: datetime | str | None, fmt: str = "") -> str:
    """A moment in the reader's locale and the platform's time zone: the date as `date` shows it,
    then the time.  `fmt` is accepted for older callers; every moment reads the same."""
    if not value:  # None or ""
        return "—"
    moment = as_utc(value).astimezone(TZ)
    # TIME_PATTERN "HH:mm" is two zero-padded numbers in Babel ('%0*d'), in every locale.
    time = f"{moment.hour:02d}:{moment.minute:02d}"
    day, joiner = _day_text(current_locale.get(), moment.date())
    return f"{day}{joiner}{time}"


@lru_cache(maxsize=4096)
def _day_text(locale_name: str, day: date) -> tuple[str, str]:
    """The day as `date` shows it, and what joins it to the time, per (locale, day): Babel
    resolves the skeleton afresh on every call, and a case page shows dozens of moments."""
    locale = babel_locale(locale_name)
    return format_skeleton(DATE_SKELETON, day, locale=locale), " " if locale.language == "zh" else ", "


def date_filter(value: date | str | None, fmt: str = "") -> str:
    """A day in the reader's locale (2026年12月6日 / Dec 6, 2026); `fmt` is accepted and ignored."""
    day = _as_date(value)
    if day is None:
        return "—" if value in (None, "") else str(value)
    return _day_text(current_locale.get(), day)[0]


def month_filter(value: str | date | None) -> str:
    """A month ("2026-11" or a date) in the reader's locale: 2026年11月 / Nov 2026."""
    if value in (None, ""):
        return "—"
    day = _as_date(f"{value}-01" if isinstance(value, str) and len(value) == 7 else value)
    if day is None:
        return str(value)
    return format_skeleton(MONTH_SKELETON, day, locale=babel_locale(current_locale.get()))


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def reader_params(params: dict | None) -> dict:
    """A stored message's parameters as the reader reads them: dates and moments (kept as ISO
    text in notifications and events) in the locale's one format; a name's `<key>_en` in English."""
    out = {}
    params = params or {}
    english = current_locale.get() == "en"
    for key, value in params.items():
        if key.endswith("_en"):  # `<name>_en` is the English of `<name>`, read by English readers
            continue
        if english and params.get(f"{key}_en"):
            value = params[f"{key}_en"]
        if isinstance(value, datetime) or (isinstance(value, str) and _ISO_MOMENT.match(value)):
            try:
                value = datetime_filter(value)
            except ValueError:
                pass
        elif isinstance(value, date) or (isinstance(value, str) and _ISO_DAY.match(value)):
            value = date_filter(value)
        out[key] = value
    return out


def yuan(fen: int | None) -> str:
    """Money kept in integer fen (分) as yuan with two decimals: 1234567 → "12,345.67"."""
    fen = int(fen or 0)
    return f"{'-' if fen < 0 else ''}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"
