"""Publicity (公示) in Chromium: a decided fault-tolerance exemption on the tenant's public page, an
objection lodged there by a member of the public (no login), and the organization department
answering it on its objections page — at desktop and phone width, in Chinese and English; nothing
scrolls sideways, shows a raw key or has a serious axe-core violation, and what must stay
confidential (the mistake, the reason) never reaches the public page."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.async_api import expect

from tests.browser.test_city import fits
from tests.browser.test_layout import VIEWPORTS
from tests.helpers import DEMO_PASSWORD, token_for
from tests.test_cadre import open_inspection, staff_user

pytestmark = pytest.mark.browser
SLUG = "luqiao"
CHECKS = {k: {"met": True} for k in ("inexperience", "unforbidden", "no_private_gain", "lawful", "reform", "diligent",
                                     "no_benefit", "procedure", "corrected")}
WORDS = {"zh": ("提出异议", "您的异议已收到", "公示异议", "不成立"),
         "en": ("Lodge an objection", "Your objection has been received", "Publicity objections", "Not upheld")}


async def decided_exemption(server: str, word: str) -> dict:
    """A cadre, an open inspection, an application verified and decided "exempted" through the API."""
    username, uid = await staff_user()
    iid = await open_inspection(uid)
    token = await token_for(f"cadre_org@{SLUG}", SLUG)
    async with httpx.AsyncClient(base_url=f"{server}/t/{SLUG}/api/v1/cadre/", timeout=30,
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        async def call(path: str, body: dict) -> dict:
            response = await client.post(path, json=body)
            assert response.status_code in (200, 201), (path, response.text)
            return response.json()

        cadre = await call("cadres", {"user": uid, "post": "窗口科员"})
        application = await call("applications", {"cadre": cadre["id"], "inspection": iid,
                                                  "mistake": f"未经集体讨论先行审批 {word}"})
        await call(f"applications/{application['id']}/verify", {"checks": CHECKS})
        await call(f"applications/{application['id']}/decide",
                   {"decision": "exempted", "reason": f"符合三个区分开来 {word}", "summary": f"为企业开工先行审批 {word}"})
    return {"application": application["id"], "name": cadre["name"]}


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("locale", ("zh", "en"))
async def test_publicity_with_an_objection_answered(server, chromium, camera, viewport, locale):
    word = "GS" + uuid.uuid4().hex[:6].upper()  # this run's publicity only
    decided = await decided_exemption(server, word)
    phone = viewport == "phone"
    base = f"{server}/t/{SLUG}/"
    problems: list[str] = []
    public = await chromium.new_context(locale="zh-CN", viewport=VIEWPORTS[viewport], is_mobile=phone, has_touch=phone)
    org = await chromium.new_context(locale="zh-CN", viewport=VIEWPORTS[viewport], is_mobile=phone, has_touch=phone)
    try:
        # A member of the public, not logged in, reads the public page in their language.
        page = await public.new_page()
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        await page.goto(base + f"lang/{locale}?next=/t/{SLUG}/public/")
        item = page.locator("[data-publicity]", has_text=word)
        await expect(item).to_have_count(1)
        await expect(item.locator("[data-person]")).to_have_text(decided["name"])
        body = await page.locator("body").inner_text()
        assert f"未经集体讨论先行审批 {word}" not in body and f"符合三个区分开来 {word}" not in body
        await camera(page, f"{locale}-{viewport}-public")
        problems += await fits(page, f"{locale} {viewport} public page")
        # They lodge an objection with a contact.
        card = page.locator("article", has=item)
        await card.get_by_role("link", name=WORDS[locale][0]).click()
        await page.wait_for_url(re.compile(r"/cadre/publicity/\d+$"))
        await page.locator('input[name="contact"]').fill("13900000000")
        await page.locator('textarea[name="text"]').fill(f"我认为该干部另有问题 {word}")
        await camera(page, f"{locale}-{viewport}-objection-form")
        problems += await fits(page, f"{locale} {viewport} objection form")
        await page.locator('form[action$="/objections"] button[type="submit"]').click()
        await expect(page.locator("[data-lodged]")).to_contain_text(WORDS[locale][1])
        await camera(page, f"{locale}-{viewport}-lodged")
        # The organization department finds it in its queue and answers it.
        desk = await org.new_page()
        desk.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        await desk.goto(base + "login")
        await desk.locator('input[name="username"]').fill(f"cadre_org@{SLUG}")
        await desk.locator('input[name="password"]').fill(DEMO_PASSWORD)
        await desk.locator('form[action$="/login"] button[type="submit"]').click()
        await desk.wait_for_url(re.compile(rf"/t/{SLUG}/(?!login)"))
        await expect(desk.locator('[data-queue="cadre.objections"]').first).to_be_visible()
        await desk.goto(base + f"lang/{locale}?next=/t/{SLUG}/cadre/objections%3Fstatus%3Dpending")
        await expect(desk.locator("h1")).to_contain_text(WORDS[locale][2])
        objection = desk.locator("[data-objection]", has_text=word)
        await expect(objection).to_have_attribute("data-status", "pending")
        await expect(objection).to_contain_text("13900000000")
        await camera(desk, f"{locale}-{viewport}-objections")
        problems += await fits(desk, f"{locale} {viewport} objections")
        await objection.locator('select[name="verdict"]').select_option("not_upheld")
        await objection.locator('input[name="reason"]').fill(f"经核实不属实 {word}")
        await objection.locator('button[type="submit"]').click()
        await desk.wait_for_url(re.compile(r"/cadre/objections$"))
        answered = desk.locator("[data-objection]", has_text=word)
        await expect(answered).to_have_attribute("data-status", "not_upheld")
        await expect(answered).to_contain_text(WORDS[locale][3])
        await camera(desk, f"{locale}-{viewport}-answered")
        problems += await fits(desk, f"{locale} {viewport} answered")
        # The application shows its publicity, still running: nothing is exempted before the period ends.
        await desk.goto(base + f"cadre/applications/{decided['application']}")
        await expect(desk.locator('[data-publicity-status="open"]')).to_be_visible()
    finally:
        await public.close()
        await org.close()
    assert problems == []
