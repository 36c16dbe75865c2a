"""Open311 GeoReport v2: every endpoint in XML and JSON with the specification's element names,
the filters and defaults of GET requests, the spec's errors (400, 403, 404; never a 500), the
anonymous intake the dispatcher attaches to a company, private data kept in, and a real Open311
client from PyPI (civicbot) against a running `qinqing serve`."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import timedelta

import httpx
import pytest

from core.cases.companies import register_company
from core.cases.tables import Case, Company, Event, Open311Request
from core.clock import now
from core.oversight import tally
from core.tables import OutboxMessage, User
from core.uscc import check_character
from tenants.scope import scoped
from tests.cases_helpers import Api
from tests.conftest import ROOT
from tests.helpers import Browser, in_tenant, token_for

SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
ATTRIBUTE_FIELDS = ["variable", "code", "datatype", "required", "datatype_description", "order", "description",
                    "values"]
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]
BASE = "/t/luqiao/open311/v2"


def credit_code(first17: str) -> str:
    return first17 + check_character(first17)


def xml_of(response: httpx.Response) -> ET.Element:
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)


def spec_error(response: httpx.Response, status: int) -> str:
    """The specification's error list, in the resource's format; returns the description."""
    assert response.status_code == status, (response.status_code, response.text)
    if response.headers["content-type"].startswith("application/json"):
        [error] = response.json()
        assert set(error) == {"code", "description"} and error["code"] == status
        return error["description"]
    root = xml_of(response)
    assert root.tag == "errors" and [e.tag for e in root] == ["error"]
    assert [c.tag for c in root[0]] == ["code", "description"] and root[0].findtext("code") == str(status)
    return root[0].findtext("description")


@pytest.fixture
async def api(app):
    return Api(app)


@pytest.fixture
async def company_code():
    """A registered luqiao company with contact data that must never leave through Open311."""
    code = credit_code("91331004MA2QQ311X")
    async with in_tenant("luqiao"):
        await register_company(code, "开放接口测试精密机械有限公司", contact_name="联系人王秘密",
                               contact_phone="13900009999", email="secret-company@example.com")
    return code


async def post(client, fmt="json", base=BASE, **fields) -> httpx.Response:
    return await client.post(f"{base}/requests.{fmt}", data=fields)


# -- services -------------------------------------------------------------------------------------

async def test_service_list_in_json_and_xml(app, client):
    listed = (await client.get("/open311/v2/services.json", params={"jurisdiction_id": "luqiao"})).json()
    assert [list(s) for s in listed] == [SERVICE_FIELDS] * len(listed)
    municipal = next(s for s in listed if s["service_code"] == "municipal")
    assert municipal["metadata"] is True and municipal["type"] == "realtime"
    assert municipal["service_name"] == "市政设施（供排水、道路）" and municipal["group"] == "区住房和城乡建设局"
    assert "municipal" in municipal["keywords"]

    root = xml_of(await client.get("/open311/v2/services.xml", params={"jurisdiction_id": "luqiao"}))
    assert root.tag == "services" and {s.tag for s in root} == {"service"} and len(root) == len(listed)
    assert [c.tag for c in root[0]] == SERVICE_FIELDS
    assert root[0].findtext("metadata") == "true" and root[0].findtext("type") == "realtime"
    # The same list under the tenant's own path and host, without jurisdiction_id.
    assert (await client.get(f"{BASE}/services.json")).json() == listed
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://luqiao.localhost") as host:
        assert (await host.get("/open311/v2/services.json")).json() == listed
    jiaojiang = (await client.get("/open311/v2/services.json", params={"jurisdiction_id": "jiaojiang"})).json()
    async with in_tenant("jiaojiang"):  # exactly its own active catalogue (other tests may add to it)
        from core.tables import Category

        active = {r["code"] for r in await scoped(Category).select(Category.code).where(Category.active == True)}  # noqa: E712
    assert {s["service_code"] for s in jiaojiang} == active and {"registration", "municipal"} <= active


async def test_service_definition_in_json_and_xml(client):
    definition = (await client.get(f"{BASE}/services/municipal.json")).json()
    assert list(definition) == ["service_code", "attributes"] and definition["service_code"] == "municipal"
    attributes = {a["code"]: a for a in definition["attributes"]}
    assert [list(a) for a in definition["attributes"]] == [ATTRIBUTE_FIELDS] * 3
    assert attributes["credit_code"]["variable"] is True and attributes["credit_code"]["datatype"] == "string"
    assert attributes["credit_code"]["required"] is False and attributes["credit_code"]["order"] == 1
    assert attributes["deadline"]["variable"] is False
    assert sorted(a["order"] for a in definition["attributes"]) == [1, 2, 3]

    root = xml_of(await client.get("/open311/v2/services/municipal.xml", params={"jurisdiction_id": "luqiao"}))
    assert root.tag == "service_definition" and [c.tag for c in root] == ["service_code", "attributes"]
    assert {a.tag for a in root.find("attributes")} == {"attribute"}
    assert [c.tag for c in root.find("attributes")[0]] == ATTRIBUTE_FIELDS
    assert root.find("attributes")[0].findtext("code") == "credit_code"

    spec_error(await client.get(f"{BASE}/services/nothing.json"), 404)
    spec_error(await client.get(f"{BASE}/services/municipal.xml", params={"jurisdiction_id": "jiaojiang"}), 400)


# -- errors of the jurisdiction ---------------------------------------------------------------------

async def test_jurisdiction_errors_in_the_spec_format(client):
    assert "jurisdiction_id" in spec_error(await client.get("/open311/v2/services.json"), 400)
    spec_error(await client.get("/open311/v2/services.xml"), 400)
    assert "atlantis" in spec_error(await client.get("/open311/v2/requests.xml?jurisdiction_id=atlantis"), 404)
    for bad in ("../luqiao", "luqiao/cases", "LUQIAO", "x" * 300):
        spec_error(await client.get("/open311/v2/services.json", params={"jurisdiction_id": bad}), 404)
    # Given under the tenant's own path it must be that tenant.
    spec_error(await client.get(f"{BASE}/requests.json", params={"jurisdiction_id": "jiaojiang"}), 400)
    spec_error(await client.get(f"{BASE}/nothing.json"), 404)
    spec_error(await client.get(f"{BASE}/requests/1.txt"), 404)
    spec_error(await client.delete(f"{BASE}/requests.json"), 400)


# -- creating requests ------------------------------------------------------------------------------

async def test_post_needs_a_valid_api_key_of_the_tenant(client):
    assert "api_key" in spec_error(await post(client, service_code="municipal", address_string="x"), 403)
    spec_error(await post(client, "xml", api_key="qq_wrong", service_code="municipal", address_string="x"), 403)
    jiaojiang = await token_for("dispatcher@jiaojiang", "jiaojiang")
    spec_error(await post(client, api_key=jiaojiang, service_code="municipal", address_string="x"), 403)
    spec_error(await post(client, base="/open311/v2", jurisdiction_id="luqiao", api_key=jiaojiang,
                          service_code="municipal", address_string="x"), 403)
    # A user whose role cannot file a case: 403 as well.
    inspector = await token_for("inspector@luqiao", "luqiao")
    spec_error(await post(client, api_key=inspector, service_code="municipal", address_string="x"), 403)


async def test_post_with_the_company_creates_a_case_through_the_lifecycle(client, company_code):
    token = await token_for("dispatcher@luqiao", "luqiao")
    async with in_tenant("luqiao") as tenant:
        outbox_before = await OutboxMessage.count().where(OutboxMessage.tenant_id == tenant.id)
    response = await client.post("/open311/v2/requests.json", data={
        "jurisdiction_id": "luqiao", "api_key": token, "service_code": "municipal", "lat": "28.5801",
        "long": "121.3712", "address_string": "路桥区财富大道 1 号", "email": "reporter@example.com",
        "first_name": "三", "last_name": "张", "phone": "13800001234", "description": "厂区门口窨井盖破损",
        "media_url": "https://example.com/photo.jpg", "device_id": "d-1", "account_id": "a-1",
        "attribute[credit_code]": company_code.lower(), "attribute[title]": "窨井盖破损"})
    [created] = response.json()
    assert response.status_code == 200 and list(created) == ["service_request_id", "service_notice", "account_id"]
    assert created["account_id"] is None and "reporter@example.com" not in response.text
    async with in_tenant("luqiao") as tenant:
        case = await scoped(Case).objects().where(Case.id == created["service_request_id"]).first()
        company = await scoped(Company).objects().where(Company.credit_code == company_code).first()
        intake = await scoped(Open311Request).select().where(Open311Request.case == case.id).first()
        events = await scoped(Event).select(Event.action).where(Event.case == case.id)
        outbox_after = await OutboxMessage.count().where(OutboxMessage.tenant_id == tenant.id)
    assert case.status == "submitted" and case.company == company.id and case.on_behalf
    assert case.title == "窨井盖破损" and case.description == "厂区门口窨井盖破损"
    assert case.number in created["service_notice"]
    assert [e["action"] for e in events] == ["submit"] and outbox_after > outbox_before
    assert (intake["lat"], intake["long"], intake["address"]) == (28.5801, 121.3712, "路桥区财富大道 1 号")
    assert (intake["email"], intake["phone"], intake["last_name"]) == ("reporter@example.com", "13800001234", "张")

    # The XML form of the same call.
    root = xml_of(await post(client, "xml", api_key=token, service_code="municipal", address_string="路桥",
                             description="第二件", **{"attribute[credit_code]": company_code}))
    assert root.tag == "service_requests" and [c.tag for c in root[0]] == [
        "service_request_id", "service_notice", "account_id"]
    assert root[0].findtext("service_request_id").isdigit() and root[0].findtext("account_id") == ""

    # A company user files for its own company without naming it.
    own = await token_for("company@luqiao", "luqiao")
    [mine] = (await post(client, api_key=own, service_code="policy", lat="28.6", long="121.4",
                         description="申请兑现")).json()
    async with in_tenant("luqiao"):
        case = await scoped(Case).objects().where(Case.id == mine["service_request_id"]).first()
    assert case.company is not None and not case.on_behalf


async def test_bad_input_is_400_or_404_and_writes_nothing(client, company_code):
    token = await token_for("dispatcher@luqiao", "luqiao")
    async with in_tenant("luqiao"):
        before = await scoped(Case).count()
    good = {"api_key": token, "service_code": "municipal", "address_string": "路桥"}
    cases = [
        ({"service_code": ""}, 400), ({"service_code": "nothing"}, 404), ({"service_code": "x" * 500}, 400),
        ({"address_string": ""}, 400), ({"address_string": "", "lat": "28.5"}, 400),
        ({"lat": "north", "long": "121"}, 400), ({"lat": "95", "long": "121"}, 400), ({"lat": "nan", "long": "1"}, 400),
        ({"attribute[credit_code]": "91331004MA2QQ311XX"}, 400), ({"attribute[credit_code]": "12345"}, 400),
        ({"attribute[credit_code]": credit_code("91331004MA2QQ312X")}, 400),  # valid but not registered
        ({"media_url": "javascript:alert(1)"}, 400), ({"media_url": "https://"}, 400),
        ({"description": "长" * 4001}, 400), ({"email": "x" * 300}, 400), ({"address_string": "地" * 301}, 400),
    ]
    for change, status in cases:
        for fmt in ("json", "xml"):
            spec_error(await post(client, fmt, **{**good, **change}), status)
    async with in_tenant("luqiao"):
        assert await scoped(Case).count() == before


# -- the anonymous intake ----------------------------------------------------------------------------

async def test_an_anonymous_request_waits_for_the_dispatcher_to_attach_its_company(app, client, api, company_code):
    [created] = (await post(client, api_key=await api.token("dispatcher"), service_code="municipal",
                            address_string="螺洋街道", description="路灯整排不亮", first_name="匿名",
                            phone="13700002222")).json()
    case_id = created["service_request_id"]
    async with in_tenant("luqiao"):
        case = await scoped(Case).objects().where(Case.id == case_id).first()
    assert case.company is None and case.status == "submitted"
    # The dispatcher sees the submitter's contact and may attach, but not yet dispatch.
    browser = Browser(app)
    await browser.login("dispatcher@luqiao", "luqiao")
    page = (await browser.get(f"/t/luqiao/cases/{case_id}")).text
    assert "data-no-company" in page and "13700002222" in page and 'data-step="attach-company"' in page
    assert 'data-step="dispatch"' not in page
    console = await browser.get("/t/luqiao/cases", params={"q": "路灯整排不亮"})
    assert console.status_code == 200 and "None" not in console.text
    await api.step("dispatcher", case_id, "dispatch", expect=409)
    await api.step("dispatcher", case_id, "attach-company", {"company": "91331004MA2QQ312XX"}, expect=400)
    await api.step("company", case_id, "attach-company", {"company": company_code}, expect=404)
    attached = await api.step("dispatcher", case_id, "attach-company", {"company": company_code, "comment": "已核实"})
    assert attached["company"] == "开放接口测试精密机械有限公司" and attached["status"] == "submitted"
    assert attached["timeline"][-1]["action"] == "attach-company"
    await api.step("dispatcher", case_id, "attach-company", {"company": company_code}, expect=409)
    dispatched = await api.step("dispatcher", case_id, "dispatch")
    [record] = (await client.get(f"{BASE}/requests/{case_id}.json")).json()
    assert record["agency_responsible"] == "区住房和城乡建设局" and record["status"] == "open"
    assert record["expected_datetime"] == f"{dispatched['due_date']}T23:59:59+08:00"
    assert record["address"] == "螺洋街道" and record["lat"] is None


# -- reading requests -------------------------------------------------------------------------------

async def test_request_and_token_in_json_and_xml(client, company_code):
    token = await token_for("dispatcher@luqiao", "luqiao")
    [created] = (await post(client, api_key=token, service_code="municipal", lat="28.58", long="121.37",
                            address_string="路桥区", media_url="https://example.com/a.png", description="积水",
                            **{"attribute[credit_code]": company_code})).json()
    request_id = created["service_request_id"]
    [record] = (await client.get(f"/open311/v2/requests/{request_id}.json?jurisdiction_id=luqiao")).json()
    assert list(record) == REQUEST_FIELDS
    assert record["service_request_id"] == request_id and record["status"] == "open"
    assert record["service_code"] == "municipal" and record["description"] == "积水"
    assert (record["lat"], record["long"], record["media_url"]) == (28.58, 121.37, "https://example.com/a.png")
    assert record["requested_datetime"].endswith("+08:00") and record["agency_responsible"] is None
    assert record["expected_datetime"] is None and record["zipcode"] is None

    root = xml_of(await client.get(f"{BASE}/requests/{request_id}.xml"))
    assert root.tag == "service_requests" and [r.tag for r in root] == ["request"]
    assert [c.tag for c in root[0]] == REQUEST_FIELDS
    assert root[0].findtext("status") == "open" and root[0].findtext("lat") == "28.58"

    async with in_tenant("luqiao"):
        number = (await scoped(Case).select(Case.number).where(Case.id == request_id).first())["number"]
    assert number in created["service_notice"]
    assert (await client.get(f"{BASE}/tokens/{number}.json")).json() == [
        {"service_request_id": request_id, "token": number}]
    root = xml_of(await client.get(f"/open311/v2/tokens/{number}.xml?jurisdiction_id=luqiao"))
    assert root.tag == "service_requests" and [c.tag for c in root[0]] == ["service_request_id", "token"]
    for missing in (f"{BASE}/requests/999999999.json", f"{BASE}/requests/abc.xml", f"{BASE}/tokens/NOPE.json",
                    f"{BASE}/requests/99999999999999999999.json", f"{BASE}/tokens/{'N' * 300}.xml"):
        spec_error(await client.get(missing), 404)


async def test_request_filters_and_defaults(client, company_code, monkeypatch, behind_the_record):
    token = await token_for("dispatcher@luqiao", "luqiao")
    ids = []
    for code in ("municipal", "policy"):
        [created] = (await post(client, api_key=token, service_code=code, address_string="路桥",
                                **{"attribute[credit_code]": company_code})).json()
        ids.append(created["service_request_id"])
    old = ids[1]
    async with in_tenant("luqiao"):  # one of them was filed 120 days ago and is closed by now
        await behind_the_record(old, {Case.submitted_at: now() - timedelta(days=120), Case.status: "closed",
                                      Case.closed_at: now() - timedelta(days=100)})
        await tally.refresh([old])  # a direct write keeps the screen's figures current by hand

    async def listed(fmt="json", **params):
        response = await client.get(f"{BASE}/requests.{fmt}", params=params)
        assert response.status_code == 200, response.text
        if fmt == "xml":
            root = xml_of(response)
            assert root.tag == "service_requests" and {r.tag for r in root} <= {"request"}
            assert all([c.tag for c in r] == REQUEST_FIELDS for r in root)
            return [int(r.findtext("service_request_id")) for r in root]
        return [r["service_request_id"] for r in response.json()]

    recent = await listed()
    assert ids[0] in recent and old not in recent  # the default: the most recent 90 days
    assert recent == await listed("xml")
    start, end = (now() - timedelta(days=130)).strftime("%Y-%m-%dT%H:%M:%SZ"), (
        now() - timedelta(days=50)).isoformat()
    assert old in await listed(start_date=start, end_date=end)
    assert old in await listed(start_date=start) and ids[0] not in await listed(start_date=start)
    assert ids[0] in await listed(end_date=now().isoformat())
    # service_request_id overrides every other argument.
    assert sorted(await listed(service_request_id=f"{ids[0]},{old}", status="open")) == sorted(ids)
    window = {"start_date": start, "end_date": now().isoformat().replace("+00:00", "Z")}
    spec_error(await client.get(f"{BASE}/requests.json", params=window), 400)  # more than 90 days
    window = {"start_date": start, "end_date": end}
    assert old in await listed(status="closed", **window) and old not in await listed(status="open", **window)
    assert ids[0] in await listed(status="open") and ids[0] not in await listed(status="closed")
    assert ids[0] in await listed(service_code="policy,municipal")
    assert ids[0] not in await listed(service_code="policy")
    both = (await client.get(f"{BASE}/requests.json?status=open&status=closed")).json()
    assert ids[0] in [r["service_request_id"] for r in both]
    for bad in ({"status": "pending"}, {"start_date": "yesterday"}, {"end_date": "2026-13-01T00:00:00Z"},
                {"service_request_id": "1,x"}, {"start_date": "9999-12-31T23:59:59Z"},
                {"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-02-01T00:00:00Z"}):
        spec_error(await client.get(f"{BASE}/requests.xml", params=bad), 400)
    # A "+" sent unencoded arrives as a space; the offset is still understood.
    raw = (now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S") + "+08:00"
    assert (await client.get(f"{BASE}/requests.json?start_date={raw}")).status_code == 200
    # At most 1000 requests per answer (the limit made small here).
    monkeypatch.setattr("core.open311.MAX_REQUESTS", 3)
    assert len(await listed(start_date=(now() - timedelta(days=89)).isoformat())) == 3


# -- private data --------------------------------------------------------------------------------------

async def test_private_data_never_leaves_through_open311(client, api, company_code):
    [created] = (await post(client, api_key=await api.token("dispatcher"), service_code="municipal",
                            address_string="峰江街道", description="围墙倒塌", first_name="私密名",
                            last_name="私密姓", email="private-reporter@example.com", phone="13611112222")).json()
    case_id = created["service_request_id"]
    await api.step("dispatcher", case_id, "attach-company", {"company": company_code, "comment": "内部备注甲"})
    await api.step("dispatcher", case_id, "dispatch", {"comment": "内部交办意见乙"})
    await api.step("handler", case_id, "accept")
    await api.step("handler", case_id, "refuse", {"reason": "保密理由丙", "basis": "保密依据丁"})
    await api.step("section_head", case_id, "sign", {"comment": "科长签批意见戊"})
    async with in_tenant("luqiao"):
        staff = [r["display_name"] for r in await User.select(User.display_name).where(
            User.username.is_in(["handler@luqiao", "section_head@luqiao", "dispatcher@luqiao"]))]
        number = (await scoped(Case).select(Case.number).where(Case.id == case_id).first())["number"]
    secrets = ["私密名", "私密姓", "private-reporter@example.com", "13611112222", "开放接口测试精密机械有限公司",
               company_code, "联系人王秘密", "13900009999", "secret-company@example.com", "内部备注甲", "内部交办意见乙",
               "保密理由丙", "保密依据丁", "科长签批意见戊", "@luqiao", *staff]

    async def public_texts() -> list[str]:
        texts = []
        for fmt in ("json", "xml"):
            for url in (f"{BASE}/requests/{case_id}.{fmt}", f"{BASE}/requests.{fmt}?service_request_id={case_id}",
                        f"{BASE}/requests.{fmt}", f"{BASE}/tokens/{number}.{fmt}",
                        f"/open311/v2/requests.{fmt}?jurisdiction_id=luqiao&status=open"):
                response = await client.get(url)
                assert response.status_code == 200, (url, response.text)
                texts.append(response.text)
        return texts

    for text in await public_texts():
        assert not [s for s in secrets if s in text]
    [record] = (await client.get(f"{BASE}/requests/{case_id}.json")).json()
    # A refusal still being signed off is, to the outside, in progress.
    assert record["status"] == "open" and record["status_notes"] == "办理中"
    await api.step("leader", case_id, "sign")
    await api.step("dept_head", case_id, "sign")
    for text in await public_texts():
        assert not [s for s in secrets if s in text]


async def test_nothing_yields_a_500(client):
    token = await token_for("dispatcher@luqiao", "luqiao")
    probes = [
        ("GET", f"{BASE}/requests/%00.json"), ("GET", f"{BASE}/services/%F0%9F%92%A9.xml"),
        ("GET", f"{BASE}/requests.json?service_request_id=" + ",".join(["1"] * 1001)),
        ("GET", f"{BASE}/requests.json?start_date=0001-01-01T00:00:00Z"),
        ("GET", f"{BASE}/requests.json?end_date=0001-01-01T00:00:00%2B14:00"),
        ("GET", f"{BASE}/tokens/.json"), ("GET", f"{BASE}/requests/.xml"), ("GET", "/open311/v2/x"),
        ("POST", f"{BASE}/requests.json"), ("POST", "/open311/v2/requests.xml"),
        ("GET", f"{BASE}/requests.json?status=%00"), ("PUT", f"{BASE}/services.json"),
    ]
    for method, url in probes:
        response = await client.request(method, url)
        assert response.status_code < 500, (method, url, response.text)
        if response.headers["content-type"].startswith("application/json"):
            assert isinstance(response.json(), list)
        else:
            assert xml_of(response).tag in ("errors", "service_requests")
    weird = {"api_key": token, "service_code": "municipal", "address_string": "\x00\x01路\ud7ff",
             "description": "<b>&</b>\x0b" + "\n" * 10, "lat": "1e308", "long": "-0"}
    for fmt in ("json", "xml"):
        response = await post(client, fmt, **weird)
        assert response.status_code < 500, response.text
    created = xml_of(await post(client, "xml", **{**weird, "lat": "28", "long": "121"}))
    read = xml_of(await client.get(f"{BASE}/requests/{created[0].findtext('service_request_id')}.xml"))
    assert read.findtext("request/description") == "<b>&</b>" and read.findtext("request/address") == "路\ud7ff"


# -- a real client against a real server ----------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_an_open311_client_from_pypi_lists_posts_and_reads_back(company_code):
    """civicbot's GeoReport v2 client against `qinqing serve` over TCP."""
    from civicbot import Endpoint, HttpError, HttpTransport, Open311Client
    from civicbot.http import RateLimiter

    token = await token_for("dispatcher@luqiao", "luqiao")
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port)], cwd=ROOT,
                              env={**os.environ}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as probe:
            for _ in range(150):
                try:
                    if (await probe.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
        endpoint = Endpoint(id="qinqing", name="亲清在线", base_url=f"{base}/open311/v2", write=True)
        client = Open311Client(endpoint, transport=HttpTransport(rate_limiter=RateLimiter(min_interval=0)),
                               jurisdiction_id="luqiao")

        def session() -> dict:
            services = client.list_services()
            assert "municipal" in {s["service_code"] for s in services}
            sent = client.create_request(
                "municipal", dry_run=False, confirm="SEND", api_key=token, validate_remote=True, lat=28.58,
                lng=121.37, address_string="路桥区银座街", description="人行道地砖松动",
                attributes={"credit_code": company_code})
            [created] = sent.response
            read = client.get_request(created["service_request_id"])
            listed = client.list_requests(service_request_ids=[created["service_request_id"]])
            try:
                client.create_request("municipal", dry_run=False, confirm="SEND", api_key="qq_not-a-key",
                                      address_string="x")
                refused = None
            except HttpError as exc:
                refused = exc
            return {"created": created, "read": read, "listed": listed, "refused": refused}

        result = await asyncio.to_thread(session)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    read = result["read"]
    assert read["service_request_id"] == result["created"]["service_request_id"]
    assert read["description"] == "人行道地砖松动" and read["status"] == "open" and read["lat"] == 28.58
    assert result["listed"] == [read]
    assert result["refused"].status == 403 and '"code":403' in result["refused"].body
