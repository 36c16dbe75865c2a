"""Jinja filters: JSON, message parameters, and dates in the reader's locale (Babel)."""

from __future__ import annotations

import json
from datetime import date, datetime

from functools import cache

from babel import Locale
from babel.dates import format_date, format_datetime

from core.clock import TZ, as_utc
from core.i18n import current_locale


def fromjson(value: str | None) -> dict:
    try:
        result = json.loads(value or "{}")
    except (TypeError, ValueError):
        return {}
    return result if isinstance(result, dict) else {}


def format_params(text: str, params: dict | None) -> str:
    if not params:
        return text
    try:
        return text % params
    except (KeyError, TypeError, ValueError):
        return text


@cache
def _locale(name: str) -> Locale:
    """Babel parses a locale name on every call; a page formats dozens of dates."""
    return Locale.parse(name)


def datetime_filter(value: datetime | str | None, fmt: str = "medium") -> str:
    if value in (None, ""):
        return "—"
    return format_datetime(as_utc(value), format=fmt, tzinfo=TZ, locale=_locale(current_locale.get()))


def date_filter(value: date | str | None, fmt: str = "medium") -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return format_date(value, format=fmt, locale=_locale(current_locale.get()))


def tr(msgid: str, params: dict | None = None) -> str:
    """Translate a stored message id and fill its parameters (for notifications and events)."""
    from core.i18n import gettext

    return format_params(gettext(msgid), params)


FILTERS = {"fromjson": fromjson, "format_params": format_params, "datetime": datetime_filter, "date": date_filter}
