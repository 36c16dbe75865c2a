"""The typed HTTP boundary: every JSON body the API takes is a struct the OpenAPI schema describes
(a named component with its fields), and a wrong-typed field answers 400 in the API's error shape,
translated, naming the field — before anything is stored."""

from __future__ import annotations

import pytest

from core.cases.tables import Case
from core.inspections.tables import REPORT_KINDS, ConductReport
from tenants.scope import scoped
from tests.cases_helpers import Api
from tests.helpers import in_tenant

WRITES = ("post", "put", "patch")


@pytest.fixture(scope="module")
def raw(app) -> dict:
    """The app's OpenAPI schema, as `/schema/openapi.json` serves it."""
    from litestar.testing import TestClient

    from web.app import create_app

    with TestClient(create_app(embedded_worker=False, db_pool=False)) as client:
        return client.get("/schema/openapi.json").json()


# Bodies not typed yet, each with why; an entry that gets typed fails the test until it leaves the list.
UNTYPED: dict[str, str] = {}


def _component(body_schema: dict, components: dict) -> tuple[str, dict] | None:
    """The named component a body's schema points at (also through `oneOf [ref, null]`)."""
    refs = [s["$ref"] for s in body_schema.get("oneOf", [body_schema]) if "$ref" in s]
    if len(refs) != 1:
        return None
    name = refs[0].rsplit("/", 1)[-1]
    return name, components[name]


def _takes_a_body(app, path: str, method: str) -> bool:
    """Whether the route's handler declares a request body (`data`)."""
    from litestar.routes import HTTPRoute

    for route in app.app.routes:
        if isinstance(route, HTTPRoute) and route.path.replace(":int", "").replace(":str", "") == path:
            handler, _ = route.route_handler_map[method.upper()]
            return "data" in handler.parsed_fn_signature.parameters
    raise AssertionError(f"no route {method} {path}")


def test_every_write_names_its_body_as_a_component_with_fields(app, raw):
    components = raw["components"]["schemas"]
    writes = [(path, method, op) for path, ops in raw["paths"].items() for method, op in ops.items()
              if method in WRITES]
    assert len(writes) >= 15, [w[:2] for w in writes]
    named, untyped = set(), set()
    for path, method, op in writes:
        body = op.get("requestBody")
        if body is None:  # an action without a body (e.g. a revocation, a grant)
            assert not _takes_a_body(app, path, method), (method, path, "takes a body the schema does not show")
            continue
        content = body["content"]
        assert list(content) == ["application/json"], (method, path, list(content))
        found = _component(content["application/json"]["schema"], components)
        pending = next((key for key in UNTYPED if key in path), None)
        if pending:
            untyped.add(pending)
            assert found is None, (method, path, f"typed now: take {pending!r} off UNTYPED")
            continue
        assert found is not None, (method, path, content["application/json"]["schema"])
        name, component = found
        assert component.get("type") == "object" and component.get("properties"), (method, path, name, component)
        named.add(name)
    assert untyped == set(UNTYPED), set(UNTYPED) - untyped
    # The case bodies are the domain's own structs (core/cases/inputs.py).
    assert {"NewCase", "CaseStep", "InspectionStep", "ReportForm", "CampaignStep", "ApplicationStep",
            "DisputeIn", "StepIn", "SweepIn", "ReferralIn"} <= named


def test_the_case_step_body_describes_every_field_a_step_reads(raw):
    from core.cases import advances, inputs

    step_fields = set(raw["components"]["schemas"]["CaseStep"]["properties"])
    read = {field for struct in (inputs.AttachCompany, inputs.Dispatch, inputs.Comment, inputs.NeedReason,
                                 inputs.OptionalReason, inputs.Refuse, inputs.Resolve, inputs.Extend, inputs.Decide,
                                 inputs.Hearing, inputs.Rule, inputs.Rate, inputs.Merge, advances.AdvanceForm,
                                 advances.SettleForm)
            for field in struct.__struct_fields__}
    assert read | {"version"} == step_fields
    report = raw["components"]["schemas"]["ReportForm"]
    assert tuple(report["properties"]["kind"]["enum"]) == REPORT_KINDS and "description" in report["required"]


@pytest.fixture
def api(app):
    return Api(app)


async def _bad(api: Api, role: str, path: str, body: dict, field: str) -> None:
    """`body` answers 400 naming `field`, in Chinese by default and in English with `lang=en`."""
    for lang, message, detail in (("zh_CN", "请求无效。", "取值无效"), ("en", "The request is not valid.",
                                                                    "invalid value")):
        api.client.cookies.set("lang", lang)
        response = await api.call(role, "POST", path, body)
        assert response.status_code == 400, (path, body, response.status_code, response.text)
        answer = response.json()
        assert set(answer) == {"code", "message", "details"}, answer
        assert answer["code"] == "bad_request" and answer["message"] == message, answer
        assert {"field": field, "message": detail} in answer["details"], answer
    api.client.cookies.delete("lang")


async def test_a_wrong_typed_field_answers_400_naming_it_and_stores_nothing(api):
    case = await api.submit()
    async with in_tenant("luqiao"):
        cases, reports = await scoped(Case).count(), await scoped(ConductReport).count()
    await _bad(api, "company", "cases", {"category": "municipal", "title": 7, "description": "积水"}, "title")
    await _bad(api, "company", "cases", {"category": "municipal", "title": "积水"}, "description")
    await _bad(api, "dispatcher", f"cases/{case['id']}/dispatch", {"department": ["zgj"]}, "department")
    await _bad(api, "dispatcher", f"cases/{case['id']}/dispatch", {"version": "first"}, "version")
    await _bad(api, "company", "inspections/reports", {"kind": "bribe", "description": "索要购物卡"}, "kind")
    await _bad(api, "company", "inspections/reports", {"kind": "gifts", "description": "x", "case": "mine"}, "case")
    async with in_tenant("luqiao"):
        assert (await scoped(Case).count(), await scoped(ConductReport).count()) == (cases, reports)
    assert (await api.get("dispatcher", case["id"]))["status"] == "submitted"
    # The same fields, well typed, go through (a number where the form would send a string, too).
    done = await api.step("dispatcher", case["id"], "dispatch", {"version": str(case["version"])})
    assert done["status"] == "dispatched"


async def test_plugin_bodies_are_checked_at_the_boundary(api):
    await _bad(api, "cadre_org", "cadre/campaigns", {"title": "专项考察", "period_start": 20260101,
                                                     "period_end": "2026-12-31"}, "period_start")
    await _bad(api, "cadre_org", "cadre/applications/1/verify", {"checks": {"lawful": {"met": "perhaps"}}},
               "checks[...].met")  # msgspec's path: a value of the `checks` mapping
    await _bad(api, "cadre_org", "cadre/cadres", {"user": "someone"}, "user")


async def test_who_may_not_write_hears_403_before_any_complaint_about_the_body(api):
    """The permission is a guard: it answers before the body is read."""
    for role, path in (("handler", "cases"), ("company", "companies"), ("dispatcher", "inspections/reports"),
                       ("company", "cadre/campaigns"), ("company", "cadre/cadres")):
        response = await api.call(role, "POST", path, {"title": 7})
        assert response.status_code == 403, (role, path, response.status_code, response.text)
        assert response.json()["code"] == "forbidden"
