"""The big screen (大屏), open in Chromium, counts a case that a company submits in another window,
without reloading the page."""

import re

import pytest
from playwright.async_api import expect

from tests.browser.test_case_flow import submit_case

pytestmark = pytest.mark.browser


async def test_the_open_screen_counts_a_new_case_without_reloading(people):
    dispatcher = await people("dispatcher")
    screen = await dispatcher.visit("screen/", "screen")
    await expect(screen.locator("h1")).to_contain_text("路桥区")
    await expect(screen.locator("#chart-months canvas")).to_have_count(1)  # ECharts drew the trend
    reported = screen.locator('#live [data-figure="reported"] .value')
    await expect(reported).to_have_text(re.compile(r"^\d+$"))
    before = int(await reported.inner_text())
    await screen.evaluate("window.__sameDocument = true")

    company = await people("company")
    await submit_case(company, "大屏实时刷新测试")
    await expect(company.page.locator("#case [data-status-label]")).to_have_text("待交办")
    await company.shot("submitted")

    await expect(reported).to_have_text(str(before + 1))
    assert await screen.evaluate("window.__sameDocument === true")
    await expect(screen.locator("#chart-months canvas")).to_have_count(1)
    await dispatcher.shot("screen-updated")
