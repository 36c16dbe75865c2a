"""Bulk re-dispatch (批量二次交办) in Chromium: a dispatcher filters the refused cases on the dispatch
console and re-dispatches them with one reason — at desktop and phone width, in Chinese and English;
the batch's page shows it done, each case is back with its department, and nothing scrolls
sideways, shows a raw key or has a serious axe-core violation."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.async_api import expect

from tests.browser.test_city import fits
from tests.browser.test_layout import VIEWPORTS
from tests.helpers import DEMO_PASSWORD, token_for

pytestmark = pytest.mark.browser
SLUG = "luqiao"
WORDS = {"zh": ("二次交办", "已处理", "二次交办这些不能办诉求"), "en": ("Bulk re-dispatch", "re-dispatched",
                                                                "Re-dispatch the refused cases")}


async def refused_cases(server: str, word: str, count: int) -> list[dict]:
    """Cases refused through the whole chain (submitted, dispatched, accepted, refused, signed thrice)."""
    tokens = {role: await token_for(f"{role}@{SLUG}", SLUG)
              for role in ("company", "dispatcher", "handler", "section_head", "leader", "dept_head")}
    made = []
    async with httpx.AsyncClient(base_url=f"{server}/t/{SLUG}/api/v1/", timeout=30) as client:
        async def call(role: str, path: str, body: dict) -> dict:
            response = await client.post(path, json=body, headers={"Authorization": f"Bearer {tokens[role]}"})
            assert response.status_code in (200, 201), (role, path, response.text)
            return response.json()

        for i in range(count):
            case = await call("company", "cases", {"category": "municipal", "title": f"{word} 路灯不亮 {i}",
                                                   "description": "夜间道路无照明。"})
            await call("dispatcher", f"cases/{case['id']}/dispatch", {})
            await call("handler", f"cases/{case['id']}/accept", {})
            await call("handler", f"cases/{case['id']}/refuse", {"reason": "不属于本部门职责", "basis": "三定方案"})
            for level in ("section_head", "leader", "dept_head"):
                case = await call(level, f"cases/{case['id']}/sign", {"comment": "同意"})
            made.append(case)
    return made


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("locale", ("zh", "en"))
async def test_a_dispatcher_re_dispatches_the_filtered_refused_cases(server, chromium, camera, viewport, locale):
    word = "QX" + uuid.uuid4().hex[:6].upper()  # this run's cases only
    cases = await refused_cases(server, word, 3)
    context = await chromium.new_context(locale="zh-CN", viewport=VIEWPORTS[viewport],
                                         is_mobile=viewport == "phone", has_touch=viewport == "phone")
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    base = f"{server}/t/{SLUG}/"
    try:
        await page.goto(base + "login")
        await page.locator('input[name="username"]').fill(f"dispatcher@{SLUG}")
        await page.locator('input[name="password"]').fill(DEMO_PASSWORD)
        await page.locator('form[action$="/login"] button[type="submit"]').click()
        await page.wait_for_url(re.compile(rf"/t/{SLUG}/(?!login)"))
        await page.goto(base + f"lang/{locale}?next=/t/{SLUG}/cases/")
        # Filter on the console: the search word, then the status "refused" (htmx swaps the list).
        await page.locator("#q").fill(word)
        await page.locator('#filters select[name="status"]').select_option("refused")
        await page.locator("#q").press("Enter")
        rows = page.locator("#case-list tbody tr[data-case]")
        await expect(rows).to_have_count(3)
        await page.wait_for_load_state("networkidle")  # every swap of the list done
        await expect(page).to_have_url(re.compile(r"status=refused"))
        form = page.locator("[data-redispatch-form]")
        await expect(page.locator("#redispatch")).to_be_visible()
        await camera(page, f"{locale}-{viewport}-filtered")
        problems += await fits(page, f"{locale} {viewport} console")
        await page.locator("#redispatch summary").click()
        await form.locator('textarea[name="reason"]').fill("区里复核：拒办理由不充分，请重新办理")
        await expect(form.locator('button[type="submit"]')).to_contain_text(WORDS[locale][2])
        await form.locator('button[type="submit"]').click()
        await page.wait_for_url(re.compile(r"/cases/redispatch/\d+"))
        batch = page.locator("#redispatch-batch")
        await expect(batch).to_have_attribute("data-status", "done")
        await expect(batch).to_have_attribute("data-redispatched", "3")
        await expect(page.locator("h1")).to_contain_text(WORDS[locale][0])
        await expect(batch.locator("[role=status]")).to_contain_text(WORDS[locale][1])
        await camera(page, f"{locale}-{viewport}-done")
        problems += await fits(page, f"{locale} {viewport} batch")
        # Each case is back with its department, the re-dispatch on its record.
        await page.goto(base + f"cases/{cases[0]['id']}")
        await expect(page.locator("body")).to_contain_text("区里复核：拒办理由不充分")
        await page.goto(base + f"cases/?q={word}&status=refused")
        await expect(page.locator("#case-list tbody tr[data-case]")).to_have_count(0)
    finally:
        await context.close()
    assert problems == []
