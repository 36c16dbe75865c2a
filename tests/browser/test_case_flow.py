"""A case through the pages in Chromium, as its people see it: the company submits it with an
attachment, the dispatcher finds it in the console (htmx search) and dispatches it, the handler
files a refusal (不能办) that goes through the three sign-offs, the review panel overturns it, the
handler resolves it and the company rates it.  The company does all of it on a phone (390×844),
and none of its pages is wider than the phone."""

import re
import uuid

import pytest
from playwright.async_api import expect

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def submit_case(company, title: str, description: str = "厂区门口排水管淤积，雨天积水严重，请尽快处理。",
                      files: list | None = None) -> str:
    """The company's submit form; answers the case page's path."""
    page = await company.visit("cases/", "my-cases")
    await page.get_by_role("button", name="提交诉求").click()
    await page.wait_for_url(re.compile(r"/cases/new$"))
    await page.locator('select[name="category"]').select_option("municipal")
    await page.locator('input[name="title"]').fill(title)
    await page.locator('textarea[name="description"]').fill(description)
    if files:
        await page.locator('input[name="files"]').set_input_files(files)
    await company.shot("submit-form")
    await page.locator('main form button[type="submit"]').click()
    await page.wait_for_url(re.compile(r"/cases/\d+$"))
    return "cases/" + page.url.rsplit("/", 1)[1]


def status(page):
    return page.locator("#case [data-status-label]")


async def open_from_list(person, path: str, number: str, step: str):
    """Open a case from a list page by clicking its number."""
    page = await person.visit(path, step)
    await page.locator(f'tr[data-case="{number}"] a').click()
    await page.wait_for_url(re.compile(r"/cases/\d+$"))
    await expect(page.locator("#case code")).to_have_text(number)
    return page


async def test_a_refused_case_is_signed_reviewed_overturned_resolved_and_rated(people):
    title = f"厂区附近排水管淤积（浏览器{uuid.uuid4().hex[:4]}）"

    company = await people("company", phone=True)  # the company's whole journey on a phone
    case_path = await submit_case(company, title, files=[
        {"name": "现场照片.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page = company.page
    await expect(status(page)).to_have_text("待交办")
    await expect(page.locator("#case h1")).to_have_text(title)
    await expect(page.locator("#case a", has_text="现场照片.pdf")).to_be_visible()
    number = (await page.locator("#case code").inner_text()).strip()
    await company.shot("submitted")

    # The dispatcher searches the console; htmx replaces the list and pushes the URL, no reload.
    dispatcher = await people("dispatcher")
    console = await dispatcher.visit("cases/", "console")
    await expect(console.locator("h1")).to_have_text("问题调度台")
    await console.evaluate("window.__sameDocument = true")
    async with console.expect_response(lambda r: "q=" in r.url and r.request.headers.get("hx-request") == "true"):
        await console.locator("#q").fill("排水管淤积")
        await console.locator("#q").press("Enter")
    row = console.locator(f'#case-list tr[data-case="{number}"]')
    await expect(row).to_contain_text(title)
    await expect(row).to_contain_text("待交办")
    await console.wait_for_url(re.compile(r"[?&]q="))
    assert await console.evaluate("window.__sameDocument === true")
    await dispatcher.shot("console-search")
    await row.locator("a").click()
    await console.wait_for_url(re.compile(r"/cases/\d+$"))
    await dispatcher.step("dispatch", {"comment": "请住建局办理"}, {"department": "zgj"})
    await expect(status(console)).to_have_text("已交办")

    # The handler accepts it from the workbench and files a refusal with its legal basis.
    handler = await people("handler")
    page = await open_from_list(handler, "cases/", number, "cases")
    await expect(page.locator("#case")).to_contain_text("现场照片.pdf")
    await handler.step("accept")
    await expect(status(page)).to_have_text("办理中")
    await handler.step("refuse", {"reason": "管网属供水公司管养", "basis": "《城镇排水与污水处理条例》第二十条"})
    await expect(status(page)).to_have_text("“不能办”审签中")
    await expect(page.locator("#case article.refusal")).to_contain_text("管网属供水公司管养")

    # Section head, leader in charge and department head sign, in that order, from their inbox.
    for level, label in (("section_head", "科室负责人"), ("leader", "分管领导"), ("dept_head", "部门负责人")):
        signer = await people(level)
        page = await open_from_list(signer, "signoffs/", number, "signoffs")
        await signer.step("sign", {"comment": "同意"})
        await expect(page.locator(f'#case li[data-signoff="{level}"]')).to_contain_text(f"{label}:")
        await expect(page.locator(f'#case li[data-signoff="{level}"]')).to_contain_text("已签批")
    await expect(status(page)).to_have_text("不能办")

    # The company sees the refusal with every signer, and asks for a review.
    page = await company.visit(case_path, "refused")
    refusal = page.locator("#case article.refusal")
    await expect(refusal).to_contain_text("《城镇排水与污水处理条例》第二十条")
    await expect(refusal.locator("li[data-signoff]")).to_have_count(3)
    await company.step("request-review", {"reason": "管网在厂区红线外，属市政管养范围"})
    await expect(status(page)).to_have_text("评议中")

    # The review panel schedules a hearing and overturns the refusal: the case goes back (二次交办).
    reviewer = await people("reviewer")
    page = await open_from_list(reviewer, "reviews/", number, "docket")
    await reviewer.step("schedule-hearing", {"hearing_at": "2026-12-02T14:00", "place": "区人大常委会会议室"})
    await expect(page.locator("#case article.review")).to_contain_text("区人大常委会会议室")
    await reviewer.step("rule", {"reason": "非企业原因，应予办理", "record": "问：管网权属？答：市政。"},
                        {"verdict": "overturned"})
    await expect(page.locator("#case article.review")).to_contain_text("推翻“不能办”")
    await expect(page.locator("#case hgroup .flag-overturned", has_text="已推翻")).to_be_visible()
    await expect(status(page)).to_have_text("已交办")

    # The handler accepts it again and resolves it; the company rates it and it is closed.
    page = await handler.visit(case_path, "back-again")
    await handler.step("accept")
    await handler.step("resolve", {"reply": "已协调供水公司完成清淤"})
    await expect(status(page)).to_have_text("已办理，待评价")
    page = await company.visit(case_path, "resolved")
    await expect(page.locator("#case")).to_contain_text("已协调供水公司完成清淤")
    await company.step("rate", {"comment": "处理及时，感谢"}, {"rating": "satisfied"})
    await expect(status(page)).to_have_text("已办结")
    await expect(page.locator("#case dl")).to_contain_text("满意 — 处理及时，感谢")
    timeline = page.locator("#case ol.timeline li")
    actions = await timeline.evaluate_all("items => items.map(li => li.dataset.action)")
    assert [a for a in actions if a != "inspection"] == [  # the must-investigate rules add their own
        "submit", "attach", "dispatch", "accept", "refuse", "sign", "sign", "sign", "request-review",
        "schedule-hearing", "rule", "accept", "resolve", "rate"]
    await expect(timeline.filter(has_text="提交“不能办”")).to_contain_text("管网属供水公司管养")
    await expect(timeline.last).to_contain_text("已办结")

    # The attachment downloads for the company as the file it uploaded.
    link = page.locator("#case a", has_text="现场照片.pdf")
    download = await page.request.get(await link.evaluate("a => a.href"))
    assert download.ok and await download.body() == PDF
