"""The company registry import with its progress and per-row report, the tenant admin's
catalogue, the OpenAPI schema, and the happy path through the pages."""

import re

from core.cases.tables import Company
from core.tables import Category, Department
from core.uscc import check_character
from tenants.scope import scoped
from tests.helpers import in_tenant, process_background
from tests.test_case_pages import browser, step, submit_page


def code(serial: int) -> str:
    first17 = f"91331004{serial:09d}"
    return first17 + check_character(first17)


async def test_company_import_reports_the_bad_row_and_applies_the_others(app):
    b = await browser(app, "tenant_admin", "jiaojiang")
    await b.get("/t/jiaojiang/companies/")
    good1, good2 = code(777001), code(777002)
    bad = good1[:17] + ("0" if good1[17] != "0" else "1")
    csv = ("企业名称,统一社会信用代码,行业,联系电话\n"
           f"台州导入甲有限公司,{good1},汽摩配件,13905761234\n"
           f"台州导入乙有限公司,{bad},模具,13905761235\n"
           f"台州导入丙有限公司,{good2},电子,0576-82345678\n").encode("gbk")
    response = await b.client.post("/t/jiaojiang/companies/import", data={"_csrf_token": b.csrf},
                                   files=[("file", ("名录.csv", csv, "text/csv"))])
    assert response.status_code == 303, response.text[:300]
    job_url = response.headers["location"]
    first = await b.get(job_url, headers={"HX-Request": "true"})
    assert 'hx-trigger="every 1s"' in first.text  # still running: the fragment polls
    await process_background()
    done = await b.get(job_url, headers={"HX-Request": "true"})
    assert 'data-status="done"' in done.text and "every 1s" not in done.text
    assert re.findall(r'data-error-row="(\d+)"', done.text) == ["3"]
    assert "校验" in done.text
    async with in_tenant("jiaojiang"):
        names = {r["name"] for r in await scoped(Company).select(Company.name).where(
            Company.credit_code.is_in([good1, good2, bad]))}
    assert names == {"台州导入甲有限公司", "台州导入丙有限公司"}


async def test_a_malformed_import_file_is_refused_at_once(app):
    b = await browser(app, "tenant_admin", "jiaojiang")
    await b.get("/t/jiaojiang/companies/")
    response = await b.client.post("/t/jiaojiang/companies/import", data={"_csrf_token": b.csrf},
                                   files=[("file", ("list.xlsx", b"MZ\x90\x00not a workbook", "application/octet-stream"))])
    assert response.status_code == 400 and "CSV" in response.text


async def test_tenant_admin_edits_departments_and_categories(app):
    b = await browser(app, "tenant_admin", "jiaojiang")
    await b.get("/t/jiaojiang/admin/catalogue/")
    assert (await b.post("/t/jiaojiang/admin/catalogue/departments",
                         {"code": "sthj", "name_zh": "椒江区生态环境分局"})).status_code == 303
    assert (await b.post("/t/jiaojiang/admin/catalogue/sections",
                         {"department": "sthj", "code": "hpk", "name_zh": "环评科"})).status_code == 303
    assert (await b.post("/t/jiaojiang/admin/catalogue/categories", {
        "code": "env", "name_zh": "环评审批", "lead": "sthj", "co": "zgj", "deadline_days": "10"})).status_code == 303
    page = await b.get("/t/jiaojiang/admin/catalogue/")
    assert 'data-department="sthj"' in page.text and 'data-category="env"' in page.text and "环评科" in page.text
    bad = await b.post("/t/jiaojiang/admin/catalogue/categories", {
        "code": "env2", "name_zh": "x", "lead": "ghost", "deadline_days": "10"})
    assert bad.status_code == 400
    zero = await b.post("/t/jiaojiang/admin/catalogue/categories", {
        "code": "env3", "name_zh": "x", "lead": "sthj", "deadline_days": "0"})
    assert zero.status_code == 400
    async with in_tenant("jiaojiang"):
        assert await scoped(Category).count().where(Category.code.is_in(["env2", "env3"])) == 0
        assert await scoped(Department).count().where(Department.code == "sthj") == 1
    handler = await browser(app, "handler", "jiaojiang")
    assert (await handler.get("/t/jiaojiang/admin/catalogue/")).status_code == 403


async def test_openapi_schema_describes_the_case_api(client):
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/t/{tenant}/api/v1/cases", "/t/{tenant}/api/v1/cases/{case_id}",
                 "/t/{tenant}/api/v1/cases/{case_id}/{step}", "/t/{tenant}/api/v1/companies",
                 "/t/{tenant}/api/v1/departments", "/t/{tenant}/api/v1/categories", "/t/{tenant}/api/v1/events"):
        assert path in paths, (path, sorted(paths))


async def test_happy_path_through_the_pages(app):
    company = await browser(app, "company")
    case_id = await submit_page(company, "门前道路破损影响货车通行")
    dispatcher = await browser(app, "dispatcher")
    await step(dispatcher, case_id, "dispatch", {"department": "zgj"})
    handler = await browser(app, "handler")
    await step(handler, case_id, "accept")
    await step(handler, case_id, "resolve", {"reply": "已修复路面"})
    await step(company, case_id, "rate", {"rating": "satisfied"})
    final = await company.get(f"/t/luqiao/cases/{case_id}")
    assert 'data-status="closed"' in final.text
    assert re.findall(r'data-action="([\w-]+)"', final.text) == ["submit", "dispatch", "accept", "resolve", "rate"]
    assert "已修复路面" in final.text


