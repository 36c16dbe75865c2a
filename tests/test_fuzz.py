"""API fuzzing (接口模糊测试): schemathesis generates requests from the app's own OpenAPI schema
(`/schema/openapi.json`, the whole JSON API) and sends them in-process to a tenant of their own (shaped like luqiao:
all three modules, demo data), each as two users — a company and the staff role that may write
there (dispatcher, judge, coordinator, organization department, inspector).  No response may be
a 5xx, and every response must be documented: status code, content type, body, headers.

Besides the schema's own values, hypothesis also draws ids that exist in the tenant, the real
step names, and for each body the fields its schema declares (typed bodies: a struct per route) with
ids and choices that exist, so the write paths run past "not found" and past the boundary's checks."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from tests.helpers import in_tenant, token_for
from tests.sandbox import luqiao_copy

SLUG = "fuzz"
# Who calls each part of the API: always a company user, and the staff role that works there.
STAFF = {"/enforcement/": "enforcement_officer",  # before "/inspections", which its paths contain
         "/approvals/filings": "approvals_officer", "/approvals/bundle-filings": "approvals_officer",
         "/approvals/": "approvals_coordinator",  # after the officer's paths, which it contains
         "/mediation/": "dispatcher", "/liaison/": "liaison_coordinator", "/cadre/": "cadre_org",
         "/inspections": "inspector"}
# The fields of a body the schema does not describe (`UNTYPED` in tests/test_api_schema.py).
FIELDS = ["reason", "basis", "reply", "department", "days", "decision", "verdict", "hearing_at", "place", "rating",
          "comment", "into", "version", "category", "title", "description", "company", "name", "credit_code",
          "kind", "case", "inspection", "conclusion", "notes", "checks", "outcome", "scores", "plan", "cadre",
          "cadres", "evaluators", "user", "principal_fen", "settled_fen", "amount_fen", "instalment", "measure",
          "mistake", "answer", "assistant", "channel", "visited_on", "follow_up_due", "period_start", "period_end"]
VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                   st.text(max_size=40),
                   st.sampled_from(["2026-03-02", "2026-03-02T09:00:00", "upheld", "overturned", "satisfied",
                                    "approve", "reject", "exempted", "no_issue", "zgj", "municipal", "favours",
                                    "<script>alert(1)</script>", "' OR 1=1 --", "../../etc/passwd", "9" * 40]),
                   st.lists(st.integers(min_value=-1, max_value=50), max_size=3))
# Body fields naming a resource: drawn from the ids that exist, too.
ID_FIELDS = {"case": "case_id", "cadre": "cadre_id", "inspection": "inspection_id", "company": "company_id",
             "cadres": "cadre_id"}


def _config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict({
        "seed": 20260101,
        # The test sends the bearer token itself, as a company and as staff.
        "generation": {"max-examples": 20, "deterministic": True, "database": "none",
                       "with-security-parameters": False},
        "parameters": {"tenant": SLUG},
        # Every other check runs.  This one wants every schema-valid request accepted, but the
        # business rules behind a 400 (a credit code's check digit, a category of this tenant's
        # catalogue, what a step needs in the case's state) are beyond what a JSON schema can say.
        "checks": {"positive_data_acceptance": {"enabled": False}},
    })


def _api_schema():
    from web.app import create_app

    # Its own app instance: schemathesis runs it (and its lifespan) on an event loop of its own,
    # so it must not start the connection pool the tests' loop would then share.
    app = create_app(embedded_worker=False, db_pool=False)
    return schemathesis.openapi.from_asgi("/schema/openapi.json", app, config=_config())


schema = _api_schema()


@pytest.fixture(scope="module")
async def fuzz() -> dict:
    """The fuzz tenant (only this file writes to it), a token per role, a few ids of each kind."""
    from core.cases import lifecycle, steps  # noqa: F401  (registers the steps)
    from core.cases.tables import Case, Company
    from core.inspections.service import STEPS as INSPECTION_STEPS
    from core.inspections.tables import Inspection
    from core.tables import ApiToken
    from plugins.approvals.tables import Bundle, BundleFiling, Filing as ApprovalFiling, Project
    from plugins.cadre.labels import APPLICATION_STEPS, CAMPAIGN_STEPS
    from plugins.cadre.tables import Application, Cadre, Campaign
    from plugins.enforcement.tables import Finding as EnforcementFinding, Inspection as CompanyInspection
    from plugins.liaison.tables import Need
    from plugins.mediation.api import STEPS as MEDIATION_STEPS
    from plugins.mediation.tables import Dispute
    from tenants.scope import scoped

    await luqiao_copy(SLUG)
    tokens = {role: await token_for(f"{role}@{SLUG}", SLUG) for role in ("company", "dispatcher", *STAFF.values())}
    ids = {}
    async with in_tenant(SLUG):
        for name, table in (("case_id", Case), ("company_id", Company), ("dispute_id", Dispute), ("need_id", Need),
                            ("cadre_id", Cadre), ("campaign_id", Campaign), ("application_id", Application),
                            ("inspection_id", Inspection), ("company_inspection_id", CompanyInspection),
                            ("finding_id", EnforcementFinding), ("project_id", Project),
                            ("filing_id", ApprovalFiling), ("bundle_id", Bundle), ("bundle_filing_id", BundleFiling)):
            ids[name] = [r["id"] for r in await scoped(table).select(table.id).order_by(table.id).limit(6)]
        own_tokens = {r["id"] for r in await scoped(ApiToken).select(ApiToken.id)}
    return {"tokens": tokens, "ids": ids, "own_tokens": own_tokens, "steps": {
        "/cases/": sorted(lifecycle.ACTIONS), "/disputes/": sorted(MEDIATION_STEPS), "/campaigns/": CAMPAIGN_STEPS,
        "/applications/": APPLICATION_STEPS, "/inspections/": sorted(INSPECTION_STEPS)}}


def _body_fields(path: str, method: str) -> dict[str, dict]:
    """The fields an operation's body declares (name → its schema); {} for a body it does not describe."""
    raw = schema.raw_schema
    operation = raw["paths"][path][method.lower()]
    body = (operation.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema", {})
    refs = [s["$ref"] for s in body.get("oneOf", [body]) if "$ref" in s]
    return raw["components"]["schemas"][refs[0].rsplit("/", 1)[-1]].get("properties", {}) if refs else {}


def _field_values(name: str, field: dict, fuzz: dict):
    """Values for one body field: anything, the field's own choices, and ids that exist."""
    choices = [v for v in field.get("enum", []) if v is not None]
    ids = fuzz["ids"].get(ID_FIELDS.get(name, ""), [])
    if name == "cadres" and ids:
        ids = [ids[:2]]
    return st.one_of(VALUES, *([st.sampled_from(choices)] if choices else []), *([st.sampled_from(ids)] if ids else []))


def _aim(case, fuzz: dict, data) -> None:
    """Point a generated request at things that exist, some of the time (requests meant to be
    invalid are left as they are)."""
    if case.meta is not None and case.meta.generation.mode == GenerationMode.NEGATIVE:
        return
    path = case.operation.path
    for name, value in list((case.path_parameters or {}).items()):
        if name in fuzz["ids"] and fuzz["ids"][name]:
            case.path_parameters[name] = data.draw(st.sampled_from([value, *fuzz["ids"][name]]), label=name)
        elif name == "step":
            known = next((s for prefix, s in fuzz["steps"].items() if prefix in path), [])
            case.path_parameters[name] = data.draw(st.sampled_from([value, *known]), label="step")
        elif name == "token_id" and value in fuzz["own_tokens"]:
            case.path_parameters[name] = 0  # never revoke the tokens the fuzzer calls with
    if case.method == "POST" and isinstance(case.body, dict) and data.draw(st.booleans(), label="known fields"):
        declared = _body_fields(path, case.method)
        if declared:
            fields = st.fixed_dictionaries({}, optional={name: _field_values(name, field, fuzz)
                                                         for name, field in declared.items()})
        else:
            fields = st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=5)
        case.body = {**case.body, **data.draw(fields, label="fields")}


@schema.given(data=st.data())
@schema.parametrize()
def test_api_answers_as_documented(case, data, fuzz):
    _aim(case, fuzz, data)
    staff = next((role for prefix, role in STAFF.items() if prefix in case.operation.path), "dispatcher")
    for role in ("company", staff):
        case.call_and_validate(headers={"Authorization": f"Bearer {fuzz['tokens'][role]}"})


def test_the_schema_is_the_json_api_with_bearer_auth_and_errors_on_every_route():
    """The schema documents the JSON API only (pages and Open311 have contracts of their own);
    every operation names the bearer scheme and answers its errors as `ApiError`."""
    raw = schema.raw_schema
    assert raw["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert all(re.match(r"/t/\{tenant\}/api/v1/", path) for path in raw["paths"]), list(raw["paths"])
    operations = [(path, method, op) for path, ops in raw["paths"].items()
                  for method, op in ops.items() if method in ("get", "post", "delete")]
    assert len(operations) >= 40
    for path, method, op in operations:
        assert op.get("security") == [{"bearer": []}], (method, path)
        for status in ("400", "401", "404"):
            content = op["responses"][status]["content"]["application/json"]["schema"]
            assert content == {"$ref": "#/components/schemas/ApiError"}, (method, path, status)
        if method == "post":
            assert "413" in op["responses"], (method, path)


# -- Open311 (GeoReport v2) ------------------------------------------------------------------------
# Not in the OpenAPI schema: the specification is its own contract.  Random
# resources, jurisdictions, query parameters and form fields; every answer is a 200 in the
# resource's format or one of the specification's errors (400, 403, 404) as `{code, description}`.

OPEN311_FIELDS = ["jurisdiction_id", "service_code", "service_request_id", "start_date", "end_date", "status",
                  "api_key", "lat", "long", "address_string", "address_id", "email", "device_id", "account_id",
                  "first_name", "last_name", "phone", "description", "media_url", "attribute[credit_code]",
                  "attribute[title]"]
OPEN311_VALUES = st.one_of(st.text(max_size=30), st.integers().map(str), st.floats(allow_nan=False).map(str),
                           st.sampled_from(["municipal", "open", "closed", "open,closed", "2026-03-02T00:00:00Z",
                                            "2026-13-45", "fuzz", "luqiao", "nowhere", "121.4", "28.58",
                                            "https://example.org/a.png", "javascript:alert(1)",
                                            "<script>alert(1)</script>", "' OR 1=1 --", "%' --", "1; DROP TABLE case",
                                            "../../../etc/passwd", "9" * 30, "913310020001000404"]))
RESOURCES = st.one_of(st.sampled_from(["services", "requests"]).map(lambda r: r + "."),
                      st.tuples(st.sampled_from(["services/", "requests/", "tokens/"]),
                                st.one_of(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.%", max_size=12),
                                          st.sampled_from(["municipal", "1", "999999999999", "FU2026000001"])))
                      .map(lambda t: t[0] + t[1] + "."))


@pytest.fixture(scope="module")
def open311_client():
    from schemathesis.python.asgi import get_client

    with get_client(schema.app) as client:
        yield client


def _check_open311(response, fmt: str) -> None:
    import xml.etree.ElementTree as ET

    status = response.status_code
    assert status in (200, 400, 403, 404), (status, response.text[:300])
    if fmt == "json":
        assert response.headers["content-type"].startswith("application/json"), response.headers["content-type"]
        body = response.json()
        assert isinstance(body, list if status != 200 or "/services/" not in response.url else dict), body
        if status != 200:
            assert [set(e) for e in body] == [{"code", "description"}] and body[0]["code"] == status, body
            assert body[0]["description"] and "Traceback" not in body[0]["description"]
    else:
        assert response.headers["content-type"].startswith("text/xml"), response.headers["content-type"]
        root = ET.fromstring(response.content)
        if status != 200:
            assert root.tag == "errors" and root[0].findtext("code") == str(status), response.text[:300]


BASE_FORMS = st.sampled_from([{}, {"service_code": "municipal", "address_string": "路桥街道"},
                              {"service_code": "municipal", "lat": "28.58", "long": "121.4", "description": "路灯不亮"}])


@settings(max_examples=150, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(["GET", "POST", "POST"]), resource=RESOURCES, fmt=st.sampled_from(["json", "xml"]),
       prefixed=st.booleans(), with_key=st.booleans(),
       query=st.dictionaries(st.sampled_from(OPEN311_FIELDS), OPEN311_VALUES, max_size=4),
       form=st.tuples(BASE_FORMS, st.dictionaries(st.sampled_from(OPEN311_FIELDS), OPEN311_VALUES, max_size=4)))
def test_open311_answers_every_input_as_the_specification_says(open311_client, fuzz, method, resource, fmt,
                                                               prefixed, with_key, query, form):
    if method == "POST" and not resource.startswith("services"):
        resource = "requests."  # where a POST goes; elsewhere it is a 400 like any other
    form = {**form[0], **form[1]}
    path = (f"/t/{SLUG}/open311/v2/" if prefixed else "/open311/v2/") + resource + fmt
    if not prefixed and "jurisdiction_id" not in query and not (method == "POST" and "jurisdiction_id" in form):
        query["jurisdiction_id"] = SLUG  # the shared endpoint needs one; a wrong one is still drawn
    if with_key:
        form["api_key"] = fuzz["tokens"]["dispatcher"]
    response = open311_client.request(method, path, params=query, data=form if method == "POST" else None)
    _check_open311(response, fmt)


# -- regressions found by fuzzing ------------------------------------------------------------------

async def test_an_id_or_page_beyond_the_database_range_is_a_4xx_not_a_500(client, fuzz):
    auth = {"Authorization": f"Bearer {fuzz['tokens']['dispatcher']}"}
    huge = "115195955029893647100868839866368"
    for url in (f"/t/{SLUG}/api/v1/cases/{huge}", f"/t/{SLUG}/api/v1/cases/-{huge}",
                f"/t/{SLUG}/api/v1/events?case={huge}", f"/t/{SLUG}/api/v1/mediation/disputes/{huge}"):
        response = await client.get(url, headers=auth)
        assert response.status_code in (400, 404), (url, response.status_code)
        assert response.json()["code"] in ("out_of_range", "not_found") and response.json()["message"]
    response = await client.post(f"/t/{SLUG}/api/v1/liaison/companies/{huge}/needs", json={"title": "x"},
                                 headers={"Authorization": f"Bearer {fuzz['tokens']['liaison_coordinator']}"})
    assert response.status_code in (400, 404)
    for url in (f"/t/{SLUG}/api/v1/cases?page={huge}", f"/t/{SLUG}/api/v1/companies?page={huge}&per_page={huge}"):
        response = await client.get(url, headers=auth)
        assert response.status_code == 200, url
    assert response.json() == []


async def test_options_and_405_name_every_method_of_the_path(client, fuzz):
    auth = {"Authorization": f"Bearer {fuzz['tokens']['dispatcher']}"}
    response = await client.options(f"/t/{SLUG}/api/v1/cases", headers=auth)
    assert response.status_code == 204 and response.headers["allow"] == "GET, OPTIONS, POST"
    response = await client.put(f"/t/{SLUG}/api/v1/tokens", headers=auth)
    assert response.status_code == 405 and set(response.headers["allow"].split(", ")) == {"GET", "POST", "OPTIONS"}
    assert response.json()["code"] == "method_not_allowed"
