"""One language per page and one format per locale (interface.md, Words and Formats).

As ten roles, in Chinese and in English, every page of the role's side navigation and a case page
show: no raw key (a status, role or enum such as `in_progress` or `cadre_org`), no template text,
a plain-text `<title>`, every date in the locale's one format (2026年12月6日 / Dec 6, 2026), and
in English the English names of the tenant, its departments, categories and townships."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, timezone

import pytest

from tests.helpers import Browser, in_tenant, token_for

ROLES = ("dispatcher", "handler", "company", "tenant_admin", "section_head", "reviewer", "inspector",
         "liaison_coordinator", "liaison_assistant", "cadre_org")
MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
# Every way a date has been written; each locale allows exactly one of them.
DATE_FORMATS = {
    "zh": re.compile(r"\d{4}年\d{1,2}月\d{1,2}日"),
    "en": re.compile(rf"\b(?:{MONTHS}) \d{{1,2}}, \d{{4}}\b"),
    "iso": re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    "slashes": re.compile(r"\b\d{4}/\d{1,2}/\d{1,2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"),
    "day-month": re.compile(rf"\b\d{{1,2}} (?:{MONTHS}) \d{{4}}\b"),
    "raw month": re.compile(r"\b\d{4}-\d{2}\b(?!-)"),
}
SNAKE_KEY = re.compile(r"(?<![\w@./:#-])[a-z]+(?:_[a-z]+)+(?![\w@./-])")
# Not the page's words: scripts, code samples, comments, and what people wrote (a case's title, text,
# reply and Open311 address, marked data-user-text or class "pre").
HIDDEN = re.compile(r"<(script|style|code|pre|textarea|template)\b.*?</\1>|<!--.*?-->|<p class=\"pre\">.*?</p>"
                    r"|<(\w+)\b[^>]*\bdata-user-text\b[^>]*>.*?</\2>", re.S | re.I)


def visible_text(page: str) -> str:
    """The words a reader sees: no scripts, code samples, comments, tags or attributes."""
    body = page.split("<body", 1)[-1]
    return html.unescape(re.sub(r"<[^>]+>", " ", HIDDEN.sub(" ", body)))


def key_words() -> set[str]:
    """Keys that must never reach a Chinese page as they are: statuses, roles, ratings, verdicts."""
    from core.cases import states as S
    from core.plugins import get_plugin_manager

    return set(S.STATUS_LABELS) | set(get_plugin_manager().roles) | set(S.RATINGS) | set(S.VERDICTS)


async def chinese_names(slug: str) -> set[str]:
    """The Chinese names of what has an English name in the tenant: itself, departments,
    sections, categories and the townships its settings name in English."""
    from core.names import TOWNSHIP_SETTING
    from core.tables import Category, Department, Section
    from tenants.scope import scoped

    async with in_tenant(slug) as tenant:
        names = {tenant.name_zh}
        for table in (Department, Section, Category):
            names |= {r["name_zh"] for r in await scoped(table).select(table.name_zh, table.name_en)
                      if r["name_en"]}
        names |= {k[len(TOWNSHIP_SETTING):] for k, v in tenant.settings.items() if k.startswith(TOWNSHIP_SETTING) and v}
    return names


def page_problems(where: str, page: str, locale: str, keys: set[str], chinese: set[str]) -> list[str]:
    problems = []
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    plain = html.unescape(title.group(1)).strip() if title else ""
    if not plain or re.search(r"[<>]|\{\{|\{%", plain):
        problems.append(f"{where}: <title> not plain text: {plain!r}")
    text = visible_text(page)
    for raw in ("{{", "{%", "%("):
        if raw in text:
            problems.append(f"{where}: template text {raw!r} near {text[text.index(raw) - 30:text.index(raw) + 30]!r}")
    snake = sorted(set(SNAKE_KEY.findall(text)))
    if snake:
        problems.append(f"{where}: raw keys {snake[:8]}")
    if locale == "zh":
        bare = sorted({w for w in re.findall(r"(?<![\w@./-])[a-z]+(?![\w@./-])", text) if w in keys})
        if bare:
            problems.append(f"{where}: raw keys {bare[:8]}")
    else:  # a name marked as Chinese (lang="zh-CN", beside its English one) is meant to be there
        english = visible_text(re.sub(r'<(\w+)[^>]*\blang="zh-CN"[^>]*>.*?</\1>', " ", page, flags=re.S))
        left = sorted(name for name in chinese if name in english)
        if left:
            problems.append(f"{where}: Chinese names on an English page {left[:5]}")
    formats = {kind: pattern.findall(text) for kind, pattern in DATE_FORMATS.items()}
    wrong = {kind: found[:3] for kind, found in formats.items() if found and kind != locale}
    if wrong:
        problems.append(f"{where}: dates not in the {locale} format: {wrong}")
    return problems


async def walk(app, role: str, locale: str, slug: str = "luqiao") -> list[tuple[str, str]]:
    """(where, page) for the role's home, every item of its navigation and the first case it lists."""
    b = Browser(app)
    response = await b.login(f"{role}@{slug}", slug)
    assert response.status_code == 303, (role, response.status_code)
    await b.get(f"/t/{slug}/lang/{locale}?next=/t/{slug}/")
    root = f"/t/{slug}/"
    home = await b.get(root)
    links = ["", "notifications/", *re.findall(r'data-nav="([^"]*)"', home.text)]
    pages, seen = [], set()
    for href in links:
        if href in seen:
            continue
        seen.add(href)
        response = await b.get(root + href)
        assert response.status_code == 200, (role, locale, href, response.status_code)
        pages.append((f"{role} {href or 'home'}", response.text))
        case = re.search(rf'href="({root}cases/\d+)"', response.text)
        if href.startswith("cases/") and case and case.group(1) not in seen:
            seen.add(case.group(1))
            pages.append((f"{role} case", (await b.get(case.group(1))).text))
    await b.close()
    return pages


@pytest.mark.parametrize("locale", ("zh", "en"))
async def test_pages_speak_one_language_with_one_date_format(app, locale):
    keys, chinese = key_words(), await chinese_names("luqiao")
    problems: list[str] = []
    visitor = Browser(app)
    await visitor.get(f"/t/luqiao/lang/{locale}?next=/t/luqiao/")
    for path in ("login", "public/"):
        response = await visitor.get(f"/t/luqiao/{path}")
        assert response.status_code == 200, path
        problems += page_problems(f"visitor {path}", response.text, locale, keys, chinese)
    for role in ROLES:
        for where, page in await walk(app, role, locale):
            problems += page_problems(where, page, locale, keys, chinese)
    assert problems == [], "\n".join(problems)


async def test_english_pages_name_departments_and_categories_in_english(app):
    """The same case in both languages: its category and department by their own names."""
    zh = dict(await walk(app, "dispatcher", "zh"))["dispatcher case"]
    en = dict(await walk(app, "dispatcher", "en"))["dispatcher case"]
    number = re.search(r"<code>(\w+)</code>", zh).group(1)
    assert number in en
    async with in_tenant("luqiao"):
        from core.cases.tables import Case
        from tenants.scope import scoped

        row = await scoped(Case).select(Case.category.name_zh, Case.category.name_en).where(
            Case.number == number).first()
    assert row["category.name_zh"] in visible_text(zh) and row["category.name_en"] in visible_text(en)
    assert row["category.name_zh"] not in visible_text(en)


async def test_what_people_wrote_stays_as_written(app):
    """A township named in a case's title or Open311 address is the filer's words: shown as written,
    not counted as an untranslated name."""
    import httpx

    chinese = await chinese_names("luqiao")
    township = sorted(n for n in chinese if n.endswith(("街道", "镇")))[0]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        sent = await client.post("/t/luqiao/open311/v2/requests.json", data={
            "api_key": await token_for("dispatcher@luqiao", "luqiao"), "service_code": "municipal",
            "address_string": township, "description": f"{township}围墙倒塌"})
    assert sent.status_code == 200, sent.text
    case_id = sent.json()[0]["service_request_id"]
    b = Browser(app)
    await b.login("dispatcher@luqiao", "luqiao")
    await b.get("/t/luqiao/lang/en?next=/t/luqiao/")
    page = (await b.get(f"/t/luqiao/cases/{case_id}")).text
    await b.close()
    assert township in page
    assert page_problems("open311 case", page, "en", key_words(), chinese) == []
    # The same name outside what people wrote is still caught.
    assert page_problems("marked", f"<body><p>{township}</p></body>", "en", set(), chinese)


@pytest.mark.parametrize(("locale", "expected"), [
    ("zh_CN", ("2026年12月6日", "2026年12月6日 14:30", "2026年11月", "12,345", "99.3%")),
    ("en", ("Dec 6, 2026", "Dec 6, 2026, 14:30", "Nov 2026", "12,345", "99.3%")),
])
def test_one_format_per_locale(locale, expected):
    from core.i18n import current_locale
    from web.filters import date_filter, datetime_filter, month_filter, number_filter, percent_filter

    token = current_locale.set(locale)
    try:
        moment = datetime(2026, 12, 6, 6, 30, tzinfo=timezone.utc)  # 14:30 in Beijing
        assert (date_filter(date(2026, 12, 6)), datetime_filter(moment), month_filter("2026-11"),
                number_filter(12345), percent_filter(0.99312)) == expected
        assert date_filter("2026-12-06") == date_filter(moment) == expected[0]  # every input, one format
        assert datetime_filter(moment.isoformat()) == datetime_filter(moment, "short") == expected[1]
    finally:
        current_locale.reset(token)


def test_a_name_in_the_readers_language():
    from core.i18n import current_locale
    from core.names import LocalName, localized

    department = {"name_zh": "区市场监督管理局", "name_en": "Market Regulation Bureau"}
    case = {"department_name": "区市场监督管理局", "department_name_en": "Market Regulation Bureau"}
    cached = LocalName("区市场监督管理局", "Market Regulation Bureau")
    for locale, name in (("zh_CN", "区市场监督管理局"), ("en", "Market Regulation Bureau")):
        token = current_locale.set(locale)
        try:
            assert localized(department) == localized(case, "department_name") == localized(cached) == name
            assert localized({"name_zh": "无英文名", "name_en": ""}) == "无英文名"  # no English name: the Chinese
        finally:
            current_locale.reset(token)
    assert cached == "区市场监督管理局" and localized(cached, locale="en") == "Market Regulation Bureau"


async def test_an_export_names_departments_in_the_readers_language(app):
    b = Browser(app)
    await b.login("dispatcher@luqiao", "luqiao")
    zh = (await b.get("/t/luqiao/exports/cases.csv")).text
    await b.get("/t/luqiao/lang/en?next=/t/luqiao/")
    en = (await b.get("/t/luqiao/exports/cases.csv")).text
    assert "区住房和城乡建设局" in zh and "Housing and Urban-Rural Development Bureau" not in zh
    assert "Housing and Urban-Rural Development Bureau" in en and "区住房和城乡建设局" not in en
