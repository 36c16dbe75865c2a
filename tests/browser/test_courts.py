"""A referral across the link between a district and its court, in Chromium: a luqiao dispatcher
follows the case page's "refer to court mediation" to the form and refers the case to 台州市路桥区人民法院, the court's clerk accepts it, a mediator holds a session and
settles, the judge confirms, and the dispatcher sees each milestone arrive on the case page."""

import re
import uuid
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from playwright.async_api import expect

pytestmark = pytest.mark.browser
COURT = "luqiao-court"


async def _until(page, url: str, locator: str, seconds: int = 120):
    """Reload `url` until `locator` is there: what crosses the link arrives within seconds."""
    for _ in range(seconds * 2):
        await page.goto(url)
        if await page.locator(locator).count():
            return page.locator(locator)
        await page.wait_for_timeout(500)
    raise AssertionError(f"{locator} did not appear on {url}")


async def test_a_dispatcher_refers_a_case_and_follows_the_courts_milestones(people):
    from core.cases.attachments import store
    from core.cases.tables import Case
    from core.tables import User
    from tenants.scope import scoped
    from tests.helpers import in_tenant

    async with in_tenant("luqiao"):
        case = await scoped(Case).objects().where(Case.company.is_not_null()).order_by(Case.id, ascending=False).first()
        case_id = case.id
        owner = await User.select(User.id).where(User.username == "company@luqiao").first()
        uploader = SimpleNamespace(id=owner["id"], roles={"company"})
        for name in ("借款合同.pdf", "银行流水.pdf"):  # the referrer sends the first along, not the second
            await store(case, uploader, name, f"%PDF-1.4\n% {name} {uuid.uuid4()}\n%%EOF\n".encode())
    dispatcher = await people("dispatcher")
    page = await dispatcher.visit(f"cases/{case_id}", "case")
    creditor = f"台州银行路桥支行{uuid.uuid4().hex[:4]}"
    await page.locator('[data-module-action="mediation.refer"]').click()  # the case page leads to the form
    await page.wait_for_url(re.compile(rf"/mediation/refer\?case={case_id}$"))
    await dispatcher.shot("refer-form")
    form = page.locator("form[data-referral-form]")
    await expect(form.locator('[name="case"]')).to_have_value(str(case_id))
    await form.locator('[name="creditor"]').fill(creditor)
    await form.locator('[name="principal"]').fill("800000")
    await form.locator('[name="summary"]').fill("企业经营正常，贷款到期一时无力偿还，申请法院调解。")
    await form.locator('label:has-text("借款合同.pdf")').last.click()
    await form.locator('button[type="submit"]').click()
    await page.wait_for_url(re.compile(r"/mediation/referrals/\d+$"))
    await expect(page.locator("[data-status]").first).to_have_attribute("data-status", "sent")
    await dispatcher.shot("referred")

    clerk = await people("mediation_court", COURT)
    page = clerk.page
    row = await _until(page, clerk.url("mediation/?status=referred"), f'#disputes tr:has-text("{creditor}")')
    await row.first.locator("a").first.click()
    await page.wait_for_url(re.compile(r"/mediation/disputes/\d+$"))
    dispute_path = page.url.split(f"/t/{COURT}/", 1)[1]
    await expect(page.locator("#dispute")).to_contain_text("台州市路桥区")  # referred by the district
    files = page.locator("[data-dispute-files] a")
    await expect(files).to_have_count(1)  # the file ticked, not the other
    await expect(files.first).to_contain_text("借款合同.pdf")
    await clerk.step("accept", {"judge": f"mediation_judge@{COURT}", "mediator": f"mediation_mediator@{COURT}"},
                     root="#dispute")
    await expect(page.locator("#dispute")).to_have_attribute("data-status", "mediating")

    mediator = await people("mediation_mediator", COURT)
    await mediator.visit(dispute_path, "dispute")
    await mediator.step("session", {"held_at": "2026-12-01T09:30", "place": "路桥法院调解室"},
                        {"outcome": "agreed"}, root="#dispute")
    first, second = date.today() + timedelta(days=30), date.today() + timedelta(days=60)
    await mediator.step("settle", {"settled": "800000", "terms": "分两期清偿。",
                                   "plan": f"{first} 500000\n{second} 300000"}, root="#dispute")

    judge = await people("mediation_judge", COURT)
    await judge.visit(dispute_path, "dispute")
    await judge.step("confirm", {"ref": "(2026)浙1004民特66号"}, root="#dispute")
    await expect(judge.page.locator("#dispute")).to_have_attribute("data-status", "repaying")

    page = dispatcher.page
    for action in ("mediation_accepted", "mediation_session_held", "mediation_settled", "mediation_confirmed"):
        await expect(await _until(page, dispatcher.url(f"cases/{case_id}"), f'li[data-action="{action}"]')).to_have_count(1)
    await dispatcher.shot("milestones-on-the-case")
