"""The cached day text and plain-Python time of `datetime_filter` / `date_filter` read exactly as
Babel's own `format_skeleton` + `format_datetime` (the former path) for every locale and moment."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from babel.dates import format_datetime, format_skeleton

from core.clock import TZ
from core.formats import DATE_SKELETON, TIME_PATTERN, babel_locale, date_filter, datetime_filter
from core.i18n import current_locale

LOCALES = ("zh_CN", "en")


def babel_moment(value: datetime, name: str) -> str:
    """The former `datetime_filter`, all Babel."""
    moment = (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(TZ)
    locale = babel_locale(name)
    day = format_skeleton(DATE_SKELETON, moment, locale=locale)
    time = format_datetime(moment, TIME_PATTERN, locale=locale)
    return f"{day} {time}" if locale.language == "zh" else f"{day}, {time}"


def moments() -> list[datetime]:
    """Across midnight and noon in UTC and in Shanghai, month and year ends, leap days, naive
    (read as UTC) and other offsets."""
    out = []
    for start in (datetime(2026, 12, 31, 15, 0), datetime(2024, 2, 28, 15, 30), datetime(1999, 12, 31, 0, 0),
                  datetime(2026, 3, 8, 1, 59), datetime(2027, 1, 1, 3, 58)):
        for minutes in range(0, 26 * 60, 7):
            out.append(start + timedelta(minutes=minutes, seconds=minutes % 60))
    zones = (timezone.utc, TZ, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30)))
    aware = [m.replace(tzinfo=zones[i % len(zones)]) for i, m in enumerate(out)]
    return out + aware


@pytest.mark.parametrize("name", LOCALES)
def test_datetime_filter_reads_as_babel(name):
    token = current_locale.set(name)
    try:
        for moment in moments():
            assert datetime_filter(moment) == babel_moment(moment, name), moment
            assert datetime_filter(moment.isoformat()) == babel_moment(moment, name), moment
            assert datetime_filter(moment, "%Y-%m-%d %H:%M") == babel_moment(moment, name), moment
    finally:
        current_locale.reset(token)


@pytest.mark.parametrize("name", LOCALES)
def test_date_filter_reads_as_babel(name):
    token = current_locale.set(name)
    try:
        day = date(1999, 12, 25)
        while day < date(2001, 3, 5):
            expected = format_skeleton(DATE_SKELETON, day, locale=babel_locale(name))
            assert date_filter(day) == expected
            assert date_filter(day.isoformat()) == expected
            day += timedelta(days=1)
    finally:
        current_locale.reset(token)


def test_known_texts():
    moment = datetime(2026, 12, 6, 6, 30, tzinfo=timezone.utc)  # 14:30 in Shanghai
    token = current_locale.set("zh_CN")
    try:
        assert datetime_filter(moment) == "2026年12月6日 14:30"
        assert datetime_filter(None) == datetime_filter("") == "—"
    finally:
        current_locale.reset(token)
    token = current_locale.set("en")
    try:
        assert datetime_filter(moment) == "Dec 6, 2026, 14:30"
    finally:
        current_locale.reset(token)


def test_localized_as_before():
    """`names.localized`'s short cuts (a plain string, a dict row) answer as the general path."""
    from types import SimpleNamespace

    from core.names import LocalName, localized

    values = [None, "", "路桥", LocalName("甲", "A"), LocalName("乙"), {"name_zh": "路桥", "name_en": "Luqiao"},
              {"name": "部门", "name_en": ""}, {"name_zh": None, "name": "区"}, SimpleNamespace(name="租户", name_en="T")]
    expected = {"zh_CN": ["", "", "路桥", "甲", "乙", "路桥", "部门", "区", "租户"],
                "en": ["", "", "路桥", "A", "乙", "Luqiao", "部门", "区", "T"]}
    for name in LOCALES:
        assert [localized(v, locale=name) for v in values] == expected[name]
        token = current_locale.set(name)
        try:
            assert [localized(v) for v in values] == expected[name]
        finally:
            current_locale.reset(token)
