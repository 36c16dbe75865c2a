"""Advance funding (先垫资): a township advances the cost of a case no department was found
responsible for and resolves it; the department found responsible settles it later.  Every step
is on the case's record (which still replays), outstanding advances are listed and counted on the
big screen, a race records one advance and one settlement, and bad input is a translated 4xx."""

from __future__ import annotations

import asyncio

import pytest

from core.cases.tables import Advance, Case
from tenants.scope import scoped
from tests.cases_helpers import Api
from tests.helpers import Browser, in_tenant
from tests.test_concurrency import _record_matches_row

SLUG = "pengjie"  # a township
DRAINAGE = {"title": "园区外排水沟堵塞，找不到管养单位", "description": "雨后污水漫进厂区，多个部门都说不归自己管。",
            "category": "infrastructure"}
ADVANCE = {"amount": "12,345.60", "authorised_by": "镇长 王建国", "work": "镇里先行垫资请施工队清淤并修复排水沟。"}


@pytest.fixture
async def api(app):
    return Api(app, SLUG)


async def outstanding_on_screen(api: Api) -> dict:
    response = await api.call("dispatcher", "GET", "figures")
    assert response.status_code == 200, response.text
    return response.json()["advances_outstanding"]


async def advance_row(case_id: int) -> list[dict]:
    async with in_tenant(SLUG):
        return await scoped(Advance).select().where(Advance.case == case_id)


async def test_advance_recorded_resolves_the_case_then_settled_and_counted(api, app):
    before = await outstanding_on_screen(api)
    case = await api.submit(**DRAINAGE)
    b = Browser(app)
    await b.login(f"dispatcher@{SLUG}", SLUG)
    form = await b.get(f"/t/{SLUG}/cases/{case['id']}")
    assert 'data-step="advance"' in form.text and "垫资金额（元）" in form.text
    posted = await b.post(f"/t/{SLUG}/cases/{case['id']}/advance", {**ADVANCE, "date": "2026-11-30"})
    assert posted.status_code == 303, posted.text[:300]
    done = await api.get("dispatcher", case["id"])
    assert done["status"] == "resolved" and done["resolution"] == ADVANCE["work"]
    assert done["timeline"][-1]["action"] == "advance"
    [row] = await advance_row(case["id"])
    assert row["amount_fen"] == 1234560 and str(row["advanced_on"]) == "2026-11-30" and row["settled_on"] is None
    assert await outstanding_on_screen(api) == {"count": before["count"] + 1, "fen": before["fen"] + 1234560}

    # Listed for the leaders and dispatchers, as a page and as JSON; not for a handler.
    listed = await api.call("leader", "GET", "advances/")
    assert listed.status_code == 200 and case["number"] in [i["number"] for i in listed.json()["items"]]
    assert (await api.call("handler", "GET", "advances/")).status_code == 403
    page = await b.get(f"/t/{SLUG}/advances/")
    assert page.status_code == 200 and f'data-advance="{case["number"]}"' in page.text and "¥12,345.60" in page.text
    assert "先垫资" in page.text
    case_page = await b.get(f"/t/{SLUG}/cases/{case['id']}")
    assert 'data-step="settle-advance"' in case_page.text and 'data-step="advance"' not in case_page.text

    settled = await api.step("tenant_admin", case["id"], "settle-advance",
                             {"department": "czjs", "amount": "12000", "date": "2026-12-02"})
    assert settled["status"] == "resolved" and settled["timeline"][-1]["action"] == "settle-advance"
    [row] = await advance_row(case["id"])
    assert row["settled_fen"] == 1200000 and str(row["settled_on"]) == "2026-12-02"
    assert await outstanding_on_screen(api) == before
    settled_list = (await api.call("dispatcher", "GET", "advances/?settled=true")).json()["items"]
    assert any(i["number"] == case["number"] and i["settled_department"] for i in settled_list)
    screen = await b.get(f"/t/{SLUG}/screen/")
    assert 'data-figure="advances"' in screen.text
    await _record_matches_row(api, case["id"])  # the record replays to the row


async def test_two_advances_at_once_record_one(api):
    case = await api.submit(**DRAINAGE)
    answers = await asyncio.gather(*(api.call(role, "POST", f"cases/{case['id']}/advance", ADVANCE)
                                     for role in ("dispatcher", "tenant_admin", "dispatcher")))
    assert sorted(a.status_code for a in answers) == [200, 409, 409], [a.text for a in answers]
    assert len(await advance_row(case["id"])) == 1
    events = (await api.get("dispatcher", case["id"]))["timeline"]
    assert [e["action"] for e in events].count("advance") == 1
    await _record_matches_row(api, case["id"])


async def test_two_settlements_at_once_record_one(api):
    case = await api.submit(**DRAINAGE)
    await api.step("dispatcher", case["id"], "advance", ADVANCE)
    body = {"department": "czjs", "amount": "100.00"}
    answers = await asyncio.gather(*(api.call(role, "POST", f"cases/{case['id']}/settle-advance", body)
                                     for role in ("dispatcher", "tenant_admin", "dispatcher")))
    assert sorted(a.status_code for a in answers) == [200, 409, 409], [a.text for a in answers]
    [row] = await advance_row(case["id"])
    assert row["settled_fen"] == 10000
    events = (await api.get("dispatcher", case["id"]))["timeline"]
    assert [e["action"] for e in events].count("settle-advance") == 1
    await _record_matches_row(api, case["id"])


@pytest.mark.parametrize("body, message", [
    ({**ADVANCE, "amount": "0"}, "金额必须大于零"),
    ({**ADVANCE, "amount": "-5"}, "金额必须大于零"),
    ({**ADVANCE, "amount": "12.345"}, "请以元为单位填写金额"),
    ({**ADVANCE, "amount": "十元"}, "请以元为单位填写金额"),
    ({**ADVANCE, "date": "2026-13-01"}, "YYYY-MM-DD"),
    ({**ADVANCE, "date": "2999-01-01"}, "日期不能晚于今天"),
    ({**ADVANCE, "authorised_by": ""}, "authorised_by"),
])
async def test_a_bad_advance_is_a_translated_400_and_stores_nothing(api, body, message):
    case = await api.submit(**DRAINAGE)
    response = await api.call("dispatcher", "POST", f"cases/{case['id']}/advance", body)
    assert response.status_code == 400 and message in response.text, response.text
    assert await advance_row(case["id"]) == []
    assert (await api.get("dispatcher", case["id"]))["status"] == "submitted"


@pytest.mark.parametrize("body, message", [
    ({"department": "czjs", "amount": "20000"}, "超过了垫资金额"),
    ({"department": "czjs", "amount": "0"}, "金额必须大于零"),
    ({"department": "czjs", "amount": "100", "date": "2026-11-01"}, "结算日期不能早于垫资日期"),
    ({"department": "czjs", "amount": "100", "date": "yesterday"}, "YYYY-MM-DD"),
    ({"department": "nowhere", "amount": "100"}, "nowhere"),
])
async def test_a_bad_settlement_is_a_translated_400_and_stores_nothing(api, body, message):
    case = await api.submit(**DRAINAGE)
    await api.step("dispatcher", case["id"], "advance", {**ADVANCE, "amount": "10000", "date": "2026-11-20"})
    response = await api.call("dispatcher", "POST", f"cases/{case['id']}/settle-advance", body)
    assert response.status_code == 400 and message in response.text, response.text
    [row] = await advance_row(case["id"])
    assert row["settled_on"] is None and row["settled_fen"] is None


async def test_who_may_advance_and_when(api):
    case = await api.submit(**DRAINAGE)
    assert (await api.call("handler", "POST", f"cases/{case['id']}/advance", ADVANCE)).status_code in (403, 404)
    assert (await api.call("company", "POST", f"cases/{case['id']}/advance", ADVANCE)).status_code in (403, 404)
    # No settlement before an advance; a resolved case cannot be advanced.
    no_advance = await api.call("dispatcher", "POST", f"cases/{case['id']}/settle-advance",
                                {"department": "czjs", "amount": "1"})
    assert no_advance.status_code == 409 and "没有登记垫资" in no_advance.text
    await api.step("dispatcher", case["id"], "advance", ADVANCE)
    again = await api.call("dispatcher", "POST", f"cases/{case['id']}/advance", ADVANCE)
    assert again.status_code == 409
    async with in_tenant(SLUG):
        assert (await scoped(Case).select(Case.status).where(Case.id == case["id"]).first())["status"] == "resolved"


async def test_the_case_page_reads_the_advance_in_its_one_round_trip(api, app, monkeypatch):
    """The page offers the settlement, not a second advance, from the advance it read beside the
    case (`advances.advance_read`); it never asks for the advance in a round trip of its own."""
    from core.cases import advances

    case = await api.submit(**DRAINAGE)
    await api.step("dispatcher", case["id"], "advance", ADVANCE)
    b = Browser(app)
    await b.login(f"dispatcher@{SLUG}", SLUG)

    async def asked_alone(case_id):
        raise AssertionError("the advance was read in a round trip of its own")

    monkeypatch.setattr(advances, "advance_of", asked_alone)
    page = await b.get(f"/t/{SLUG}/cases/{case['id']}")
    assert page.status_code == 200, page.text[:300]
    assert 'data-step="settle-advance"' in page.text and 'data-step="advance"' not in page.text
