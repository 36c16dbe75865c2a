"""One flow of each module in Chromium, through its own pages: a court mediation from intake to full
repayment (和合金融), a liaison assistant's visit and a need filed as a case for the company
(助企服务网络), and a cadre evaluation from its start to the cadre's own file (干部考察)."""

import re
import uuid
from datetime import date, timedelta

import pytest
from playwright.async_api import expect

pytestmark = pytest.mark.browser


async def test_a_dispute_is_mediated_confirmed_and_repaid(people):
    clerk = await people("mediation_court", "luqiao-court")  # the court is a tenant of its own
    page = await clerk.visit("mediation/", "disputes")
    await page.get_by_role("link", name="受理纠纷").click()
    await page.wait_for_url(re.compile(r"/mediation/new$"))
    for name, value in (("title", "设备贷款逾期纠纷"), ("creditor", "路桥农商银行"), ("guarantors", "李四"),
                        ("principal", "50000"), ("interest", "1200.50"), ("court", "路桥区人民法院"),
                        ("judge", "mediation_judge@luqiao-court"), ("mediator", "mediation_mediator@luqiao-court")):
        await page.locator(f'main form [name="{name}"]').fill(value)
    await clerk.shot("intake-form")
    await page.locator('main form button[type="submit"]').click()
    await page.wait_for_url(re.compile(r"/mediation/disputes/\d+$"))
    dispute_path = page.url.split(f"/t/{clerk.slug}/", 1)[1]
    dispute = page.locator("#dispute")
    await expect(dispute).to_contain_text("调解中")
    await expect(dispute).to_contain_text("50,000.00")
    await expect(dispute.locator("ul").first).to_contain_text("李四")
    await clerk.shot("taken-in")
    await clerk.step("measure", {"asset": "厂房一幢"}, {"asset_kind": "property"}, root="#dispute")
    await expect(dispute.locator("tr[data-measure]")).to_contain_text("限制转让、允许使用（活封）")

    mediator = await people("mediation_mediator", "luqiao-court")
    page = await mediator.visit(dispute_path, "dispute")
    dispute = page.locator("#dispute")
    await mediator.step("session", {"held_at": "2026-12-01T09:30", "place": "路桥法院调解室",
                                    "participants": "双方代理人", "minutes": "银行同意分两期还款"},
                        {"outcome": "agreed"}, root="#dispute")
    await expect(dispute.locator("ol").first).to_contain_text("达成协议")
    first, second = date.today() + timedelta(days=30), date.today() + timedelta(days=60)
    await mediator.step("settle", {"settled": "50000", "terms": "分两期清偿本金，免除利息。",
                                   "plan": f"{first} 30000\n{second} 20000"}, root="#dispute")
    await expect(dispute).to_contain_text("已达成协议")
    await expect(dispute.locator("tr[data-instalment]")).to_have_count(2)

    judge = await people("mediation_judge", "luqiao-court")
    page = await judge.visit(dispute_path, "dispute")
    dispute = page.locator("#dispute")
    await judge.step("confirm", {"ref": "(2026)浙1004民特88号"}, root="#dispute")
    await expect(dispute).to_contain_text("还款中")
    await expect(dispute).to_contain_text("(2026)浙1004民特88号")

    page = await clerk.visit(dispute_path, "repaying")
    dispute = page.locator("#dispute")
    await clerk.step("pay", {"amount": "30000"}, root="#dispute")
    await expect(dispute.locator('tr[data-instalment="1"]')).to_contain_text("已还")
    await clerk.step("pay", {"amount": "20000"}, root="#dispute")
    await expect(dispute).to_have_attribute("data-status", "completed")
    await expect(dispute.locator("p .status-badge").first).to_have_text("已办结")
    await expect(dispute.locator("tr[data-measure]")).to_contain_text("解除于")
    await expect(dispute.locator("ol.timeline")).to_contain_text("全部还清")
    await expect(dispute.locator("form[data-step]")).to_have_count(0)
    await clerk.shot("completed")


async def test_an_assistant_logs_a_visit_and_files_a_need_as_a_case(people):
    assistant = await people("liaison_assistant")
    page = await assistant.visit("liaison/", "workbench")
    company_link = page.locator("#liaison-companies tbody tr a").first
    company_name = (await company_link.inner_text()).strip()
    await company_link.click()
    await page.wait_for_url(re.compile(r"/liaison/companies/\d+$"))
    company_path = page.url.split(f"/t/{assistant.slug}/", 1)[1]
    await expect(page.locator("h1")).to_have_text(company_name)
    await expect(page.locator("#assistant")).to_contain_text("机关助企员")

    visit = page.locator('form[action$="/visits"]')
    await visit.locator('[name="visited_on"]').fill(date.today().isoformat())
    await visit.locator('[name="kind"]').select_option("visit")
    await visit.locator('[name="people"]').fill("企业负责人王总")
    await visit.locator('[name="topics"]').fill("厂房消防验收排期")
    await visit.locator('[name="follow_up"]').fill("联系消防大队确认验收时间")
    await visit.locator('[name="follow_up_due"]').fill((date.today() + timedelta(days=5)).isoformat())
    await assistant.shot("visit-form")
    await visit.locator('button[type="submit"]').click()
    await expect(page.locator("li[data-follow-up]", has_text="联系消防大队确认验收时间")).to_be_visible()
    await expect(page.locator("main")).to_contain_text("企业负责人王总")
    await assistant.shot("visit-logged")

    title = f"厂房消防验收需要协调（{uuid.uuid4().hex[:4]}）"
    need = page.locator('form[action$="/needs"]')
    await need.locator('[name="title"]').fill(title)
    await need.locator('[name="description"]').fill("新厂房消防验收排期太久，影响投产。")
    await need.locator('[name="channel"]').select_option("visit")
    await need.locator('button[type="submit"]').click()
    item = page.locator("li[data-need]", has_text=title)
    await expect(item).to_contain_text("走访")
    await assistant.shot("need-told")
    await item.locator('form[action$="/file"] select[name="category"]').select_option("municipal")
    await item.locator('form[action$="/file"] button[type="submit"]').click()
    await page.wait_for_url(re.compile(r"/cases/\d+$"))
    case = page.locator("#case")
    await expect(case.locator("h1")).to_have_text(title)
    await expect(case.locator("[data-status-label]")).to_have_text("待交办")
    await expect(case.locator("dl")).to_contain_text(re.compile(rf"由 .+ 代 {re.escape(company_name)} 提交"))
    await assistant.shot("filed")

    page = await assistant.visit(company_path, "need-filed")
    await expect(page.locator("li[data-need]", has_text=title)).to_contain_text("已转为诉求")


async def test_a_cadre_evaluation_runs_to_the_cadres_own_file(people):
    title = f"营商环境专项考察（{uuid.uuid4().hex[:4]}）"
    org = await people("cadre_org")
    page = await org.visit("cadre/", "board")
    start = page.locator('form[action$="/cadre/campaigns"]')
    await start.locator('[name="title"]').fill(title)
    await start.locator('[name="theme"]').fill("优化营商环境")
    await start.locator('[name="period_start"]').fill(f"{date.today().year - 1}-01-01")
    await start.locator('[name="period_end"]').fill(f"{date.today().year}-12-31")
    await start.locator("label", has_text="副科长").locator('input[name="cadres"]').check()  # cadre@luqiao
    await start.locator("label", has_text="考察人员").locator('input[name="evaluators"]').check()
    await org.shot("start-form")
    await start.locator('button[type="submit"]').click()
    await page.wait_for_url(re.compile(r"/cadre/campaigns/\d+$"))
    campaign_path = page.url.split(f"/t/{org.slug}/", 1)[1]
    await expect(page.locator("h1")).to_have_text(title)
    sheet = page.locator("article[data-sheet]")
    await expect(sheet).to_have_count(1)
    await expect(sheet.locator('[data-field="handled"]')).to_have_text(re.compile(r"^\d+$"))
    await org.shot("campaign")

    evaluator = await people("cadre_evaluator")
    page = await evaluator.visit(campaign_path, "campaign")
    scores = page.locator('article[data-sheet] form[action$="/score"]')
    for box in await scores.locator('input[type="number"]').all():
        await box.fill("92")
    await scores.locator('[name="comment"]').fill("服务意识强，办理及时")
    await scores.locator('button[type="submit"]').click()
    await expect(page.locator("article[data-sheet] ul")).to_contain_text("服务意识强，办理及时")
    await expect(page.locator("article[data-sheet]")).to_contain_text("平均分")
    await evaluator.shot("scored")

    page = await org.visit(campaign_path, "campaign-scored")
    sheet = page.locator("article[data-sheet]")
    await sheet.locator('form[action$="/rate"] button[type="submit"]').click()
    await expect(sheet.locator("mark").first).to_have_text("优秀")
    outcome = sheet.locator('form[action$="/outcome"]')
    await outcome.locator('[name="outcome"]').select_option("promoted")
    await outcome.locator('[name="reason"]').fill("考察优秀，提拔重用")
    await outcome.locator('button[type="submit"]').click()
    await expect(sheet).to_contain_text("提拔或调整到重要岗位")
    await org.shot("decided")
    await page.locator('form[action$="/close"] button[type="submit"]').click()
    await expect(page.locator("hgroup [data-status]")).to_have_attribute("data-status", "closed")
    await expect(page.locator('form[action$="/score"], form[action$="/outcome"]')).to_have_count(0)
    await org.shot("closed")

    cadre = await people("cadre")
    page = await cadre.visit("cadre/", "own-file")
    await expect(page.locator("h1")).to_contain_text("干部档案")
    row = page.locator("tr[data-evaluation]", has_text=title)
    await expect(row).to_contain_text("优秀")
    await expect(row).to_contain_text("提拔或调整到重要岗位 — 考察优秀，提拔重用")
