"""The city's (台州市) big screen and league table in Chromium, as its city leader sees them: on a
desk (1440×900) and a phone (390×844), in Chinese and English — no sideways scroll, the league
table of both districts, the charts drawn, no raw key, no axe-core violation of impact serious or
critical, and a district opened from the league table."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser.conftest import SHOTS
from tests.browser.test_layout import AXE, AXE_RUN, VIEWPORTS
from tests.helpers import DEMO_PASSWORD

pytestmark = pytest.mark.browser

DISTRICTS = {"zh": ("台州市路桥区", "台州市椒江区"), "en": ("Luqiao District, Taizhou", "Jiaojiang District, Taizhou")}
TITLE = {"zh": "台州市及所辖全部区县", "en": "Taizhou City and all its districts"}
RAW = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b|%\(\w+\)s")  # a msgid-like key or an unfilled placeholder


async def fits(page, where: str) -> list[str]:
    problems = []
    width = await page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if width[0] > width[1] + 1:
        problems.append(f"{where}: page {width[0]} px wide in a {width[1]} px window")
    text = await page.locator("body").inner_text()
    raw = RAW.findall(text)
    if raw:
        problems.append(f"{where}: raw keys {raw[:5]}")
    if not await page.evaluate("() => typeof axe !== 'undefined'"):
        await page.evaluate(AXE)
    found = await page.evaluate(AXE_RUN, None)
    if found:
        problems.append(f"{where}: axe {found}")
    return problems


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("locale", ("zh", "en"))
async def test_the_city_screen_and_league_table(server, chromium, viewport, locale):
    folder = SHOTS / "city"
    folder.mkdir(parents=True, exist_ok=True)
    context = await chromium.new_context(locale="zh-CN", viewport=VIEWPORTS[viewport])
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    base = f"{server}/t/taizhou/"
    try:
        await page.goto(base + "login")
        await page.locator('input[name="username"]').fill("city_leader@taizhou")
        await page.locator('input[name="password"]').fill(DEMO_PASSWORD)
        await page.locator('form[action$="/login"] button[type="submit"]').click()
        await page.wait_for_url(re.compile(r"/t/taizhou/(?!login)"))
        await page.goto(base + f"lang/{locale}?next=/t/taizhou/screen/")
        await expect(page.locator("h1")).to_contain_text(TITLE[locale])
        rows = page.locator("#live [data-league] tbody tr[data-district]")
        await expect(rows).to_have_count(2)
        for name in DISTRICTS[locale]:
            await expect(page.locator("#live [data-league]")).to_contain_text(name)
        for chart in ("#chart-months", "#chart-ranking"):
            await expect(page.locator(f"{chart} canvas")).to_have_count(1)
        await page.wait_for_timeout(800)  # ECharts' entry animation
        problems += await fits(page, f"screen {locale} {viewport}")
        await page.screenshot(path=str(folder / f"screen-{locale}-{viewport}.png"), full_page=True)

        # A district from the league table: its own roll-up, by township, on the city's screen.
        await rows.filter(has_text=DISTRICTS[locale][0]).locator("a").click()
        await page.wait_for_url(re.compile(r"scope=luqiao"))
        await expect(page.locator(".scopes [aria-current='page']")).to_have_text(DISTRICTS[locale][0])
        await expect(page.locator("#live [data-township]").first).to_be_visible()
        problems += await fits(page, f"screen luqiao {locale} {viewport}")
        await page.screenshot(path=str(folder / f"screen-luqiao-{locale}-{viewport}.png"), full_page=True)

        # The league table page, in the one layout, reached from the side navigation.
        await page.goto(base + "city/")
        await expect(page.locator("[data-league] tbody tr[data-district]")).to_have_count(2)
        await expect(page.locator('#sidenav a[data-nav="city/"]')).to_have_count(1)
        problems += await fits(page, f"league {locale} {viewport}")
        await page.screenshot(path=str(folder / f"league-{locale}-{viewport}.png"), full_page=True)
    finally:
        await context.close()
    assert problems == [], "\n".join(problems)
