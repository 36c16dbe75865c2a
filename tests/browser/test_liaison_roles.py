"""The township liaison roles in Chromium on a phone (390×844), in the township 蓬街镇: a village
runner logs a company's need met in the village and hands it to the company's assistant; the
company asks the experts; the industry lead (百晓长) answers from the queue on their home page;
the company sees the answer.  Each page of the roles passes the layout check (no sideways scroll,
no wrapped label, axe-core) on a desk and a phone, in Chinese and English."""

import re
import uuid

import pytest
from playwright.async_api import expect

from tests.browser.test_layout import check

pytestmark = pytest.mark.browser
SLUG = "pengjie"


PHONE, DESK = {"width": 390, "height": 844}, {"width": 1440, "height": 900}


async def layout(person, path: str, where: str) -> list[str]:
    """The layout check of one page on a desk (1440×900) and a phone, in Chinese and English; then
    back to Chinese at the person's own width."""
    page, problems, own = person.page, [], person.page.viewport_size
    for lang in ("zh", "en"):
        await page.goto(person.url(f"lang/{lang}?next=/t/{person.slug}/{path}"))
        for size in (DESK, PHONE):
            await page.set_viewport_size(size)
            await page.wait_for_load_state("networkidle")
            problems += await check(page, f"{where} {lang} {size['width']}")
    await page.goto(person.url(f"lang/zh?next=/t/{person.slug}/{path}"))
    await page.set_viewport_size(own)
    return problems


async def test_a_runner_logs_a_need_an_expert_answers_and_the_company_sees_it(people):
    problems: list[str] = []
    mark = uuid.uuid4().hex[:4]

    runner = await people("liaison_runner", SLUG, phone=True)
    await expect(runner.page.locator('[data-queue="liaison.village"]')).to_be_visible()  # home = work queue
    page = await runner.visit("liaison/village", "village")
    form = page.locator("#village-log")
    await form.locator('[name="title"]').fill(f"厂区外道路破损{mark}")
    await form.locator('[name="place"]').fill("蓬北村工业区")
    await form.get_by_role("button", name="登记诉求").click()
    need = page.locator("li[data-village-need]").filter(has_text=f"厂区外道路破损{mark}")
    await expect(need).to_have_attribute("data-status", "logged")
    await runner.shot("logged")
    await need.get_by_role("button", name="转交助企员").click()
    await expect(page.locator("li[data-village-need]").filter(has_text=f"厂区外道路破损{mark}")).to_have_attribute(
        "data-status", "handed")
    await runner.shot("handed")
    problems += await layout(runner, "liaison/village", "runner village")

    company = await people("company", SLUG, phone=True)
    page = await company.visit("liaison/consultations", "ask")
    ask = page.locator("#consultation-ask")
    await ask.locator('select[name="field"]').select_option("investment")
    await ask.locator('[name="question"]').fill(f"扩建厂房能否申请招商奖励？{mark}")
    await ask.get_by_role("button", name="提交咨询").click()
    asked = page.locator("li[data-consultation]").filter(has_text=mark)
    await expect(asked).to_have_attribute("data-status", "open")
    await company.shot("asked")
    problems += await layout(company, "liaison/consultations", "company consultations")
    problems += await layout(company, "liaison/inbox", "company inbox")

    lead = await people("liaison_lead", SLUG, phone=True)
    card = lead.page.locator('a[data-queue="liaison.consultations"]')
    await expect(card).to_be_visible()
    page = await lead.visit("liaison/consultations?show=open", "to-answer")
    item = page.locator("li[data-consultation]").filter(has_text=mark)
    await item.locator('[name="answer"]').fill(f"可以，按招商引资奖励办法申报。{mark}")
    await item.get_by_role("button", name="提交答复").click()
    await expect(page.locator("li[data-consultation]").filter(has_text=mark)).to_have_count(0)
    await lead.shot("answered")
    problems += await layout(lead, "liaison/consultations?show=open", "lead queue")

    page = await company.visit("liaison/consultations", "answer")
    answered = page.locator("li[data-consultation]").filter(has_text=mark)
    await expect(answered).to_have_attribute("data-status", "answered")
    await expect(answered.locator("[data-answer]")).to_contain_text("按招商引资奖励办法申报")
    await company.shot("seen")

    coordinator = await people("liaison_coordinator", SLUG)  # the network view, at a desk
    page = await coordinator.visit("liaison/network", "network")
    await expect(page.locator("#liaison-people td[data-counts]").first).to_be_visible()
    assert re.search(r"answered=\d+", await page.content())
    problems += await layout(coordinator, "liaison/network", "network")
    assert problems == []
