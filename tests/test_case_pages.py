"""The lifecycle through the pages (htmx forms), the console's filters and Chinese search,
attachments, and bad input that must leave the case unchanged."""

import re

import pytest

from core.cases.tables import Case
from tenants.scope import scoped
from tests.cases_helpers import Api
from tests.helpers import Browser, in_tenant

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def browser(app, role: str, slug: str = "luqiao") -> Browser:
    b = Browser(app)
    response = await b.login(f"{role}@{slug}", slug)
    assert response.status_code == 303, response.text
    return b


async def step(b: Browser, case_id: int, action: str, data: dict | None = None, expect: int = 200):
    page = await b.get(f"/t/luqiao/cases/{case_id}")
    version = re.search(r'data-version="(\d+)"', page.text).group(1)
    assert f'data-step="{action}"' in page.text, (action, "button not offered")
    response = await b.post(f"/t/luqiao/cases/{case_id}/{action}", {"version": version, **(data or {})}, htmx=True)
    assert response.status_code == expect, (action, response.status_code, response.text[:500])
    return response


async def submit_page(b: Browser, title: str, description: str = "请尽快处理。", files=None) -> int:
    await b.get("/t/luqiao/cases/new")
    response = await b.client.post("/t/luqiao/cases", data={
        "_csrf_token": b.csrf, "category": "municipal", "title": title, "description": description,
    }, files=files or [])
    assert response.status_code == 303, response.text[:500]
    return int(response.headers["location"].rsplit("/", 1)[1])


async def test_refusal_path_through_the_pages(app):
    company = await browser(app, "company")
    case_id = await submit_page(company, "厂区附近排水管淤积", files=[("files", ("现场照片.pdf", PDF, "application/pdf"))])
    dispatcher = await browser(app, "dispatcher")
    console = await dispatcher.get("/t/luqiao/cases?q=排水")
    assert "厂区附近排水管淤积" in console.text
    await step(dispatcher, case_id, "dispatch", {"department": "zgj", "comment": "请住建局办理"})
    handler = await browser(app, "handler")
    workbench = await handler.get("/t/luqiao/cases?mine=0")
    assert f'/cases/{case_id}"' in workbench.text
    await step(handler, case_id, "accept")
    fragment = await step(handler, case_id, "refuse", {"reason": "管网属供水公司", "basis": "《城镇排水与污水处理条例》第二十条"})
    assert "<html" not in fragment.text and 'data-status="refusal_pending"' in fragment.text
    for level in ("section_head", "leader", "dept_head"):
        signer = await browser(app, level)
        inbox = await signer.get("/t/luqiao/signoffs/")
        assert f'/cases/{case_id}"' in inbox.text
        await step(signer, case_id, "sign", {"comment": "同意"})
    page = await company.get(f"/t/luqiao/cases/{case_id}")
    assert "管网属供水公司" in page.text and page.text.count('data-signoff="') == 3
    await step(company, case_id, "request-review", {"reason": "不认可"})
    reviewer = await browser(app, "reviewer")
    docket = await reviewer.get("/t/luqiao/reviews/")
    assert f'/cases/{case_id}"' in docket.text
    await step(reviewer, case_id, "schedule-hearing", {"hearing_at": "2026-12-02T14:00", "place": "区人大常委会"})
    await step(reviewer, case_id, "rule", {"verdict": "overturned", "reason": "非企业原因", "record": "问：……答：……"})
    await step(handler, case_id, "accept")
    await step(handler, case_id, "resolve", {"reply": "协调供水公司清淤完毕"})
    await step(company, case_id, "rate", {"rating": "satisfied", "comment": "感谢"})
    final = await company.get(f"/t/luqiao/cases/{case_id}")
    assert 'data-status="closed"' in final.text
    timeline = re.findall(r'data-action="([\w-]+)"', final.text)
    assert timeline == ["submit", "attach", "dispatch", "accept", "refuse", "sign", "sign", "sign", "request-review",
                        "schedule-hearing", "rule", "accept", "resolve", "rate"]
    # The attachment is served to the company and hidden from another tenant.
    link = re.search(r'href="(/t/luqiao/cases/\d+/attachments/\d+)"', final.text).group(1)
    download = await company.client.get(link)
    assert download.status_code == 200 and download.content == PDF
    assert "filename*=utf-8''" in download.headers["content-disposition"]


async def test_console_filters_paging_and_search(app):
    api = Api(app)
    case = await api.submit(title="仓库屋顶渗漏影响存货", description="连续降雨导致仓库漏水")
    b = await browser(app, "dispatcher")
    found = await b.get("/t/luqiao/cases?q=渗漏", headers={"HX-Request": "true"})
    assert "<html" not in found.text and "仓库屋顶渗漏影响存货" in found.text
    assert 'data-total="1"' in found.text
    assert 'data-total="0"' in (await b.get("/t/luqiao/cases?q=渗漏&status=closed")).text
    submitted = await b.get("/t/luqiao/cases?status=submitted&per_page=5")
    assert case["number"] in submitted.text
    page2 = await b.get("/t/luqiao/cases?per_page=5&page=2")
    assert page2.status_code == 200 and "page=3" in page2.text
    overdue = await b.get("/t/luqiao/cases?refused=1&overturned=1&per_page=100")
    assert overdue.status_code == 200


async def test_two_character_chinese_search_through_the_api(app):
    api = Api(app, "jiaojiang")
    case = await api.submit(title="厂区附近排水管淤积", description="积水严重", category="municipal")
    other = await api.submit(title="营业执照地址变更", description="搬迁", category="registration")
    found = (await api.call("dispatcher", "GET", "cases?q=排水&per_page=100")).json()
    ids = [c["id"] for c in found["items"]]
    assert case["id"] in ids and other["id"] not in ids
    assert (await api.call("dispatcher", "GET", "cases?q=淤积 排水")).json()["total"] >= 1


@pytest.mark.parametrize("field, value", [("title", ""), ("title", "标" * 201), ("description", "长" * 5001),
                                          ("category", "no-such-category")])
async def test_bad_submission_is_400_and_stores_nothing(app, field, value):
    api = Api(app)
    async with in_tenant("luqiao"):
        before = await scoped(Case).count()
    body = {"category": "municipal", "title": "正常标题", "description": "正常内容", field: value}
    response = await api.call("company", "POST", "cases", body)
    assert response.status_code == 400 and response.json()["message"]
    async with in_tenant("luqiao"):
        assert await scoped(Case).count() == before


async def test_wrong_file_type_and_oversized_file_store_nothing(app):
    b = await browser(app, "company")
    async with in_tenant("luqiao"):
        before = await scoped(Case).count()
    await b.get("/t/luqiao/cases/new")
    for name, content, status in (("evil.pdf", b"MZ\x90\x00 this is an exe", 415),
                                  ("big.pdf", b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024), 413)):
        response = await b.client.post("/t/luqiao/cases", data={
            "_csrf_token": b.csrf, "category": "municipal", "title": "带附件", "description": "内容"},
            files=[("files", (name, content, "application/pdf"))])
        assert response.status_code == status, (name, response.status_code)
    async with in_tenant("luqiao"):
        assert await scoped(Case).count() == before


async def test_stale_form_submitted_twice_is_409_and_changes_nothing(app):
    api = Api(app)
    case = await api.submit()
    b = await browser(app, "dispatcher")
    page = await b.get(f"/t/luqiao/cases/{case['id']}")
    version = re.search(r'data-version="(\d+)"', page.text).group(1)
    first = await b.post(f"/t/luqiao/cases/{case['id']}/escalate", {"version": version, "reason": "急"}, htmx=True)
    assert first.status_code == 200
    again = await b.post(f"/t/luqiao/cases/{case['id']}/escalate", {"version": version, "reason": "急"}, htmx=True)
    assert again.status_code == 409
    after = await api.get("dispatcher", case["id"])
    assert after["version"] == int(version) + 1 and [e["action"] for e in after["timeline"]].count("escalate") == 1


async def test_someone_elses_case_is_404(app):
    api = Api(app, "jiaojiang")
    theirs = await api.submit()
    luqiao = Api(app)
    assert (await luqiao.call("dispatcher", "GET", f"cases/{theirs['id']}")).status_code == 404
    mine = await luqiao.submit()
    other_company = await luqiao.call("company", "GET", f"cases/{mine['id']}")
    assert other_company.status_code == 200
    # A handler of another department cannot see a case not dispatched to it.
    assert (await luqiao.call("handler", "GET", f"cases/{mine['id']}")).status_code == 404


async def test_missing_fields_on_a_step_are_400_and_leave_the_case(app):
    api = Api(app)
    case = await api.in_progress()
    response = await api.call("handler", "POST", f"cases/{case['id']}/refuse", {"reason": "只有理由"})
    assert response.status_code == 400 and "basis" in response.json()["message"]
    assert (await api.get("handler", case["id"]))["version"] == case["version"]


async def test_company_code_check_through_the_api(app):
    api = Api(app)
    good = await api.call("tenant_admin", "POST", "companies", {"credit_code": "91330100716105852F", "name": "阿里巴巴（中国）有限公司"})
    assert good.status_code == 201 and good.json()["credit_code"] == "91330100716105852F"
    bad = await api.call("tenant_admin", "POST", "companies", {"credit_code": "91330100716105852E", "name": "校验位错误"})
    assert bad.status_code == 400 and "校验" in bad.json()["message"]
    letter = await api.call("tenant_admin", "POST", "companies", {"credit_code": "91330100716105852I", "name": "x"})
    assert letter.status_code == 400
    assert (await api.call("company", "POST", "companies", {"credit_code": "91330100716105852F", "name": "x"})).status_code == 403


async def test_the_home_page_shows_what_is_waiting(app):
    api = Api(app, "jiaojiang")
    await api.submit(title="首页待办测试")
    async with in_tenant("jiaojiang"):
        waiting = await scoped(Case).count().where(Case.status == "submitted")
        resolved = await scoped(Case).count().where(Case.status == "resolved")
    b = await browser(app, "dispatcher", "jiaojiang")
    home = await b.get("/t/jiaojiang/")
    shown = re.search(r'href="/t/jiaojiang/cases/\?queue=to_dispatch" data-queue="core.to_dispatch" data-count="(\d+)"',
                      home.text)
    assert shown and int(shown.group(1)) == waiting
    company = await browser(app, "company", "jiaojiang")
    page = await company.get("/t/jiaojiang/")
    rating = re.search(r'data-queue="core.to_rate" data-count="(\d+)"', page.text)
    assert rating and int(rating.group(1)) <= resolved
    assert 'data-submit-case' in page.text  # the company's home leads with its submit button
