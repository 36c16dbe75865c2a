"""Inclusive enforcement (包容审慎柔性执法) in Chromium, through its own pages: an officer announces an
inspection of a company already inspected within the window, sees the warning and joins the joint
inspection (综合查一次); the department head signs off a penalty where 首违不罚 applies; the company
sees its announced inspections and contests an outcome, which opens a case.  Each page passes the
layout check (no sideways scroll, no wrapped label, axe-core) on a desk and on a phone, in both
languages."""

import re
from datetime import date, timedelta

import pytest
from playwright.async_api import expect

from tests.browser.test_layout import check

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


async def layout(person, path: str, where: str) -> list[str]:
    """The layout check of one page at desk and phone width, in Chinese and English."""
    page, problems = person.page, []
    for lang in ("zh", "en"):
        await page.goto(person.url(f"lang/{lang}?next=/t/{person.slug}/{path}"))
        for size in ({"width": 1280, "height": 900}, PHONE):
            await page.set_viewport_size(size)
            await page.wait_for_load_state("networkidle")
            problems += await check(page, f"{where} {lang} {size['width']}")
    await page.goto(person.url(f"lang/zh?next=/t/{person.slug}/{path}"))
    await page.set_viewport_size({"width": 1280, "height": 900})
    return problems


async def test_an_inspection_is_announced_joined_signed_off_and_contested(people):
    problems: list[str] = []
    company = await people("company")
    page = await company.visit("enforcement/", "announced")
    rows = page.locator("#inspections tr[data-inspection]")
    await expect(rows.first).to_be_visible()
    company_name = (await rows.first.locator("td").nth(1).inner_text()).strip()
    problems += await layout(company, "enforcement/", "company home")

    officer = await people("enforcement_officer")
    page = await officer.visit("enforcement/", "inspections")
    problems += await layout(officer, "enforcement/", "officer home")
    await page.locator("#register summary").click()
    form = page.locator("#register form")
    await form.locator('select[name="company"]').select_option(label=company_name)
    await form.locator('[name="planned_on"]').fill(str(date.today() + timedelta(days=8)))
    await form.locator('[name="subject"]').fill("消防安全检查")
    await form.locator('[name="legal_basis"]').fill("《中华人民共和国消防法》第五十三条")
    await form.locator('[name="inspectors"]').fill("赵某（33100300111）")
    await form.locator('button[type="submit"]').click()
    await page.wait_for_url(re.compile(r"/enforcement/inspections/\d+$"))
    inspection_path = page.url.split(f"/t/{officer.slug}/", 1)[1]
    warning = page.locator("#repeat-warning")
    await expect(warning).to_contain_text("综合查一次")
    await expect(warning.locator("li[data-nearby]")).to_have_count(3)
    await officer.shot("warned")
    problems += await layout(officer, inspection_path, "officer warning")
    await warning.get_by_role("button", name="加入综合查一次").click()
    await page.wait_for_url(re.compile(r"/enforcement/inspections/\d+$"))
    await expect(page.locator("#joint-members li")).to_have_count(3)
    await expect(page.locator("#repeat-warning")).to_have_count(0)
    await officer.shot("joined")

    head = await people("dept_head")
    page = await head.visit("enforcement/", "sign-offs")
    waiting = page.locator("#signoffs tr[data-finding] a").first
    await waiting.click()
    await page.wait_for_url(re.compile(r"/enforcement/inspections/\d+$"))
    problems += await layout(head, page.url.split(f"/t/{head.slug}/", 1)[1], "head sign-off")
    card = page.locator("article[data-finding]").filter(has=page.get_by_role("button", name="审签同意处罚"))
    await card.locator('[name="comment"]').fill("临近学校，同意处罚")
    await card.get_by_role("button", name="审签同意处罚").click()
    await expect(page.locator("article[data-finding]").first).to_contain_text("临近学校，同意处罚")
    await head.shot("signed")

    page = await company.visit("enforcement/", "outcomes")
    await page.locator("#outcomes tr[data-finding] a").first.click()
    await page.wait_for_url(re.compile(r"/enforcement/inspections/\d+$"))
    problems += await layout(company, page.url.split(f"/t/{company.slug}/", 1)[1], "company outcomes")
    contest = page.locator("article[data-finding] details").filter(has_text="提出异议").first
    await contest.locator("summary").click()
    await contest.locator('[name="reason"]').fill("已当场改正，请求复核")
    await contest.get_by_role("button", name="提出异议").click()
    await page.wait_for_url(re.compile(r"/cases/\d+$"))
    await expect(page.locator("main")).to_contain_text("对执法处理结果提出异议")
    await company.shot("contested")

    admin = await people("tenant_admin")
    await admin.visit("enforcement/lists", "lists")
    problems += await layout(admin, "enforcement/lists", "admin lists")
    problems += await layout(admin, "enforcement/figures", "admin figures")
    assert problems == [], "\n".join(problems)
