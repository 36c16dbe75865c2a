"""The big screen (大屏) in Chromium: it counts a case that a company submits in another window
without reloading the page, and fits a wall display (1920×1080, 1366×768, 3840×2160) with every
chart drawn — the enabled modules' cells (project approvals, inclusive enforcement) included, and
a district without them showing the core panels only.

With QQ_DOCS_SCREENSHOTS=1 it also writes docs/screenshots/screen-1920x1080.png."""

import os
import re

import pytest
from playwright.async_api import expect

from tests.browser.conftest import SHOTS
from tests.browser.test_case_flow import submit_case
from tests.browser.test_layout import AXE, AXE_RUN, DOCS, WRAPPED
from tests.helpers import DEMO_PASSWORD

pytestmark = pytest.mark.browser


async def test_the_open_screen_counts_a_new_case_without_reloading(people):
    dispatcher = await people("dispatcher")
    screen = await dispatcher.visit("screen/", "screen")
    await expect(screen.locator("h1")).to_contain_text("路桥区")
    await expect(screen.locator("#chart-months canvas")).to_have_count(1)  # ECharts drew the trend
    reported = screen.locator('#live [data-figure="reported"] .value')
    await expect(reported).to_have_text(re.compile(r"^\d+\D"))  # the figure, then its unit (件)
    before = int(re.match(r"\d+", await reported.inner_text()).group())
    await screen.evaluate("window.__sameDocument = true")

    company = await people("company")
    await submit_case(company, "大屏实时刷新测试")
    await expect(company.page.locator("#case [data-status-label]")).to_have_text("待交办")
    await company.shot("submitted")

    await expect(reported).to_have_text(re.compile(rf"^{before + 1}\D"))
    assert await screen.evaluate("window.__sameDocument === true")
    await expect(screen.locator("#chart-months canvas")).to_have_count(1)
    await dispatcher.shot("screen-updated")


# (name, viewport): the wall display it is designed for and the smaller one it must also fit.
SCREENS = {"1920x1080": {"width": 1920, "height": 1080}, "1366x768": {"width": 1366, "height": 768},
           "3840x2160": {"width": 3840, "height": 2160}}
CORE_CHARTS = {"chart-months", "chart-ranking"}
# Luqiao's modules on the screen: each cell and its chart.
MODULE_CHARTS = {"approvals": "chart-approvals-stages", "enforcement": "chart-enforcement-outcomes"}
# Every element of a module's cell, and whether it lies inside the window and is not clipped by its cell.
CELLS = """() => [...document.querySelectorAll("[data-screen-widget]")].map(cell => {
  const box = cell.getBoundingClientRect();
  const parts = [...cell.querySelectorAll("h2, .value, .label, figcaption, .chart")];
  const clipped = parts.filter(el => { const r = el.getBoundingClientRect();
    return r.width < 1 || r.height < 1 || r.bottom > box.bottom + 1 || r.right > box.right + 1; })
    .map(el => el.className || el.tagName);
  return [cell.dataset.screenWidget, box.top >= 0 && box.left >= 0 && box.bottom <= innerHeight && box.right <= innerWidth,
          clipped, cell.innerText];
})"""
# Each chart's canvas: how many of its pixels are drawn (ECharts paints on a transparent canvas).
DRAWN = """() => [...document.querySelectorAll(".chart")].map(el => {
  const canvas = el.querySelector("canvas");
  if (!canvas || !canvas.width || !canvas.height) return [el.id, 0];
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let drawn = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) drawn++;
  return [el.id, drawn / (canvas.width * canvas.height)];
})"""


@pytest.mark.parametrize("size", SCREENS)
@pytest.mark.parametrize("locale", ("zh", "en"))
async def test_the_screen_fits_a_wall_display(server, chromium, locale, size):
    """At 1920×1080 and 1366×768, in Chinese and English: no scrollbar, every chart drawn, titled
    with what it counts and its unit, no percentage or figure broken over two lines."""
    context = await chromium.new_context(locale="zh-CN", viewport=SCREENS[size])
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    base = f"{server}/t/luqiao/"
    try:
        await page.goto(base + "login")
        await page.locator('input[name="username"]').fill("dispatcher@luqiao")
        await page.locator('input[name="password"]').fill(DEMO_PASSWORD)
        await page.locator('form[action$="/login"] button[type="submit"]').click()
        await page.wait_for_url(re.compile(r"/t/luqiao/(?!login)"))
        await page.goto(base + f"lang/{locale}?next=/t/luqiao/screen/")
        for chart in (*CORE_CHARTS, *MODULE_CHARTS.values()):
            await expect(page.locator(f"#{chart} canvas")).to_have_count(1)
        await page.wait_for_timeout(800)  # ECharts' entry animation
        folder = SHOTS / "screen"
        folder.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(folder / f"screen-{locale}-{size}.png"))
        scroll = await page.evaluate("""() => { const s = document.scrollingElement;
            return [s.scrollHeight, innerHeight, s.scrollWidth, innerWidth]; }""")
        assert scroll[0] <= scroll[1] and scroll[2] <= scroll[3], f"{size} {locale}: page {scroll}"
        drawn = dict(await page.evaluate(DRAWN))
        assert set(drawn) == CORE_CHARTS | set(MODULE_CHARTS.values()) and all(v > 0.01 for v in drawn.values()), drawn
        # The running month, when there is one, is drawn lighter and labelled "to date".
        partial = await page.evaluate("""() => {
            const months = JSON.parse(document.getElementById("screen-data").textContent).months;
            const option = echarts.getInstanceByDom(document.getElementById("chart-months")).getOption();
            return months.map((m, i) => m.partial ? [m.label, option.xAxis[0].data[i],
                option.series[0].data[i].itemStyle.opacity] : null).filter(Boolean); }""")
        for label, shown, opacity in partial:
            assert label == shown and "\n" in shown and opacity < 1, partial
        # Every chart says what it counts, with the unit.
        for chart in ("#chart-months", "#chart-ranking"):
            title = page.locator(f".panel:has({chart}) h2")
            await expect(title).to_have_text(re.compile(r"\S+.*[(（].+[)）]"))
        # The modules' cells: in the window, nothing clipped, in the reader's language, no raw key.
        cells = await page.evaluate(CELLS)
        assert [c[0] for c in cells] == list(MODULE_CHARTS), cells
        for key, inside, clipped, text in cells:
            assert inside and clipped == [], f"{size} {locale}: {key} {clipped}"
            assert not re.search(r"\b[a-z]+_[a-z_]+\b|\{\{|%\(", text), f"{key}: raw text in {text!r}"
            assert bool(re.search(r"[\u4e00-\u9fff]", text.replace("施工许可", ""))) == (locale == "zh"), text
        await expect(page.locator('[data-screen-widget="approvals"] [data-figure="materials"] .value')).to_have_text(
            re.compile(r"^24\s*→\s*7"))
        await expect(page.locator('[data-screen-widget="approvals"] [data-figure="days"] .value')).to_have_text(
            re.compile(r"^15\s*→\s*1"))
        for chart in MODULE_CHARTS.values():
            await expect(page.locator(f"figure:has(#{chart}) figcaption")).to_have_text(re.compile(r"\S+.*[(（].+[)）]"))
        if size == "1920x1080":  # axe-core on the module cells: no serious or critical violation
            await page.evaluate(AXE)
            assert await page.evaluate(AXE_RUN, ["#modules"]) == []
        assert await page.evaluate(WRAPPED, ".tile .value, .rate .value, .townships td, .townships th, .panel h2, "
                                            ".widget .value, .widget figcaption") == []
        below = await page.evaluate("""(height) => [...document.querySelectorAll(
            ".tile, .rate, .townships, .flags, .chart, .widget, .kpi")].filter(el => el.getBoundingClientRect().bottom > height + 1)
            .map(el => el.className)""", SCREENS[size]["height"])
        assert below == [], f"{size} {locale}: below the fold {below}"  # nothing below the fold
        if os.environ.get("QQ_DOCS_SCREENSHOTS") == "1" and locale == "zh" and size == "1920x1080":
            await page.screenshot(path=str(DOCS / "screen-1920x1080.png"))
        assert errors == []
    finally:
        await context.close()


async def test_a_district_without_the_modules_keeps_the_core_screen(server, chromium):
    """Jiaojiang enables neither module: no module cell, red flags beside the townships as before,
    and still no scrollbar with both charts drawn."""
    context = await chromium.new_context(locale="zh-CN", viewport=SCREENS["1920x1080"])
    page = await context.new_page()
    base = f"{server}/t/jiaojiang/"
    try:
        await page.goto(base + "login")
        await page.locator('input[name="username"]').fill("dispatcher@jiaojiang")
        await page.locator('input[name="password"]').fill(DEMO_PASSWORD)
        await page.locator('form[action$="/login"] button[type="submit"]').click()
        await page.wait_for_url(re.compile(r"/t/jiaojiang/(?!login)"))
        await page.goto(base + "screen/")
        for chart in CORE_CHARTS:
            await expect(page.locator(f"#{chart} canvas")).to_have_count(1)
        await page.wait_for_timeout(800)
        assert await page.locator("#modules, [data-screen-widget]").count() == 0
        assert set(dict(await page.evaluate(DRAWN))) == CORE_CHARTS
        rows = await page.evaluate("""() => ["townships", "flags", "trend"].map(c =>
            Math.round(document.querySelector("." + c).getBoundingClientRect().top))""")
        assert rows[0] == rows[1] > rows[2], rows  # townships and red flags share the bottom row
        scroll = await page.evaluate("() => [document.scrollingElement.scrollHeight, innerHeight]")
        assert scroll[0] <= scroll[1], scroll
        folder = SHOTS / "screen"
        folder.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(folder / "screen-jiaojiang-1920x1080.png"))
    finally:
        await context.close()


def test_the_current_month_is_marked_partial():
    """The month still running is marked (and labelled "to date"), never drawn as a full month."""
    from core.clock import today
    from core.i18n import current_locale
    from web.pages.screen import month_labels

    current = today().strftime("%Y-%m")
    token = current_locale.set("en")
    try:
        months = month_labels([{"month": "2026-01", "reported": 25}, {"month": current, "reported": 1}])
    finally:
        current_locale.reset(token)
    assert [m["partial"] for m in months] == [current == "2026-01", True]
    assert months[-1]["label"].endswith("to date") and months[0]["label"].startswith("Jan")
