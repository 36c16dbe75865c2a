"""On a phone (390×844) the case console is a stack of cards, one a case, each line a column's
header and its value — no table to scroll sideways — in Chinese and English; the cards stay
reachable by keyboard and clean under axe-core.  The side navigation shows beside the console the
count of cases waiting to be dispatched, the home page's number, and a step lowers it in place."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser.test_layout import AXE, AXE_RUN

pytestmark = pytest.mark.browser

HEADERS = {"zh": ("编号", "标题", "状态"), "en": ("Number", "Title", "Status")}

# Each of the first cards: its box, and each cell's label (the ::before of the cell) with its text.
CARDS = """() => Array.from(document.querySelectorAll("#case-list tr[data-case]")).slice(0, 5).map(tr => ({
  number: tr.dataset.case,
  left: tr.getBoundingClientRect().left, right: tr.getBoundingClientRect().right,
  display: getComputedStyle(tr).display,
  cells: Array.from(tr.cells).filter(td => td.offsetParent).map(td => ({
    label: getComputedStyle(td, "::before").content.replace(/^"|"$/g, ""),
    text: td.textContent.replace(/\\s+/g, " ").trim()})),
  badgeLines: Array.from(tr.querySelectorAll(".status-badge")).map(b => {
    const r = document.createRange(); r.selectNodeContents(b);
    return new Set(Array.from(r.getClientRects()).map(x => Math.round(x.top))).size; }),
}))"""


@pytest.mark.parametrize("locale", ("zh", "en"))
async def test_the_console_is_a_stack_of_cards_on_a_phone(people, locale):
    dispatcher = await people("dispatcher", phone=True)
    page = dispatcher.page
    if locale == "en":
        await dispatcher.visit("lang/en?next=/t/luqiao/", "english")
    home = page.locator('[data-queue="core.to_dispatch"]')
    waiting = int(await home.get_attribute("data-count"))
    await dispatcher.visit("cases/", "console")
    await page.wait_for_load_state("networkidle")

    assert await page.evaluate("document.scrollingElement.scrollWidth") <= 390
    await expect(page.locator("#case-list table.table-cards")).to_have_count(1)
    head = await page.locator("#case-list thead").bounding_box()
    assert head is None or head["width"] <= 1, "the header row is out of sight, left for screen readers"
    cards = await page.evaluate(CARDS)
    assert len(cards) == 5
    for card in cards:
        assert card["display"] == "block" and card["left"] >= 0 and card["right"] <= 390, card
        lines = {c["label"]: c["text"] for c in card["cells"]}
        number, title, status = HEADERS[locale]
        assert lines[number] == card["number"] and lines[title] and lines[status], lines
        assert card["badgeLines"] == [1], "the status badge stays on one line"

    # The keyboard reaches each card's link; axe-core finds nothing serious in the cards.
    first = page.locator("#case-list tr[data-case] a").first
    for _ in range(60):
        await page.keyboard.press("Tab")
        if await first.evaluate("a => a === document.activeElement"):
            break
    else:
        raise AssertionError("Tab never reached the first case")
    await page.evaluate(AXE)
    assert await page.evaluate(AXE_RUN, ["#case-list"]) == []
    await dispatcher.shot("cards")

    # The console's item in the menu carries the count of cases to dispatch, in words for screen readers.
    link = page.locator('#sidenav a[data-nav="cases/"]')
    badge = link.locator("[data-nav-count]")
    if waiting:
        await expect(badge).to_have_attribute("data-nav-count", str(waiting))
        words = "待交办" if locale == "zh" else "To dispatch"
        await expect(link.locator(".visually-hidden")).to_contain_text(words)
    else:
        await expect(badge).to_have_count(0)
    await page.locator(".menu-button").click()
    await expect(page.locator("#sidenav.show:not(.showing)")).to_be_visible()
    if waiting:
        await expect(badge).to_be_visible()
    await page.wait_for_timeout(400)
    await dispatcher.shot("menu")

    # Dispatching a case in place (htmx) lowers the count in the menu without reloading the page.
    if waiting and locale == "zh":
        await dispatcher.visit("cases/?queue=to_dispatch", "to-dispatch")
        await page.locator("#case-list tr[data-case] a").first.click()
        await page.wait_for_url(re.compile(r"/cases/\d+$"))
        await expect(badge).to_have_attribute("data-nav-count", str(waiting))
        await dispatcher.step("dispatch")
        if waiting > 1:
            await expect(badge).to_have_attribute("data-nav-count", str(waiting - 1))
        else:
            await expect(badge).to_have_count(0)
