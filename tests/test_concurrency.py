"""One case, many hands: steps sent at the same moment, through the JSON API, on the engine under
test (SQLite in `make test`, PostgreSQL in CI's second stage).  Whatever arrives together, each
step is recorded once, the case row agrees with its record, and nobody gets a 5xx."""

from __future__ import annotations

import asyncio
import os

import pytest

from tests.cases_helpers import Api
from tests.test_case_lifecycle import ALLOWED, _state_for

TRIALS = int(os.environ.get("QINQING_CONCURRENCY_TRIALS", "50"))


@pytest.fixture
async def api(app):
    return Api(app)


@pytest.fixture(autouse=True, scope="module")
async def _outbox_left_empty():
    """These tests queue thousands of notifications nobody reads: set them aside, so later modules'
    relay runs find their own messages among the first."""
    from tests.helpers import skip_outbox

    yield
    await skip_outbox()


async def _together(api: Api, calls: list[tuple[str, str, dict]], case_id: int):
    """Send every (role, action, body) on the case at once; the answers in order."""
    return await asyncio.gather(*(api.call(role, "POST", f"cases/{case_id}/{action}", body)
                                  for role, action, body in calls))


async def _record_matches_row(api: Api, case_id: int) -> dict:
    """The case as the API shows it, after checking it against its record: every event follows
    from the one before, the version counts them, and replaying them gives the row."""
    from core.cases.tables import Case
    from tenants.scope import scoped
    from tests.helpers import in_tenant

    case = await api.get("dispatcher", case_id)
    timeline = case["timeline"]
    assert timeline, case
    for earlier, later in zip(timeline, timeline[1:]):
        if later["before"]:
            assert later["before"] == earlier["after"], (case["number"], earlier, later)
    assert timeline[-1]["after"] == case["status"], (case["number"], timeline[-1], case["status"])
    async with in_tenant(api.slug):
        row = await scoped(Case).select(Case.version).where(Case.id == case_id).first()
        mismatch = await _replay_one(case_id)
    assert row["version"] == len(timeline) - 1, (case["number"], row["version"], len(timeline))
    assert mismatch is None, str(mismatch)
    return case


async def _replay_one(case_id: int):
    """What `qinqing audit verify` finds for one case: its events replayed against its row."""
    from core.cases import replay
    from core.cases.tables import Case, Event, Refusal
    from core.tables import Department
    from tenants.scope import scoped

    row = await scoped(Case).select(*replay.CASE_FIELDS).where(Case.id == case_id).first()
    events = await scoped(Event).select(*replay.EVENT_FIELDS).where(Event.case == case_id).order_by(Event.seq)
    pending = await scoped(Refusal).count().where((Refusal.case == case_id) & (Refusal.status == "pending"))
    departments = {r["id"]: r["code"] for r in await scoped(Department).select(Department.id, Department.code)}
    return replay.compare(replay.replay(events), row, departments, pending)


def _no_server_error(responses) -> None:
    for response in responses:
        assert response.status_code < 500, (response.status_code, response.text)


@pytest.mark.parametrize("action", sorted(ALLOWED))
async def test_twenty_identical_steps_count_once(api, action):
    """20 copies of one step, each carrying the version it was read at: one 2xx, one event."""
    case, body = await _state_for(api, action)
    role = sorted(ALLOWED[action])[0]
    before = len((await api.get("dispatcher", case["id"]))["timeline"])
    responses = await _together(api, [(role, action, dict(body, version=case["version"]))] * 20, case["id"])
    _no_server_error(responses)
    codes = sorted(r.status_code for r in responses)
    assert codes.count(200) == 1, (action, codes)
    assert all(code == 409 for code in codes if code != 200), (action, codes)
    after = await _record_matches_row(api, case["id"])
    assert len(after["timeline"]) == before + 1, (action, [e["action"] for e in after["timeline"]])


async def test_twenty_sign_offs_without_a_version_sign_once(api):
    case = await api.refusal_pending()
    responses = await _together(api, [("section_head", "sign", {"comment": "同意"})] * 20, case["id"])
    _no_server_error(responses)
    assert sorted(r.status_code for r in responses).count(200) == 1
    after = await _record_matches_row(api, case["id"])
    assert [e["action"] for e in after["timeline"]].count("sign") == 1
    signoffs = [s for r in after["refusals"] for s in r["signoffs"]]
    assert [s["level"] for s in signoffs] == ["section_head"], signoffs


async def test_twenty_refusals_leave_one_pending(api):
    case = await api.in_progress()
    responses = await _together(api, [("handler", "refuse", {"reason": "不符合", "basis": "条例"})] * 20, case["id"])
    _no_server_error(responses)
    assert sorted(r.status_code for r in responses).count(200) == 1
    from core.cases.tables import Refusal
    from tenants.scope import scoped
    from tests.helpers import in_tenant

    async with in_tenant(api.slug):
        assert await scoped(Refusal).count().where(Refusal.case == case["id"]) == 1
    await _record_matches_row(api, case["id"])


async def test_a_stale_version_is_refused_by_the_api(api):
    """Ten dispatches all claiming version 0: the first wins, the others are told the case changed."""
    case = await api.submit()
    assert case["version"] == 0
    responses = await _together(api, [("dispatcher", "dispatch", {"version": 0})] * 10, case["id"])
    _no_server_error(responses)
    codes = [r.status_code for r in responses]
    assert codes.count(200) == 1 and codes.count(409) == 9, codes
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {"stale", "conflict"}
    late = await api.call("dispatcher", "POST", f"cases/{case['id']}/escalate", {"reason": "提级", "version": 0})
    assert late.status_code == 409 and late.json()["code"] == "stale"


# -- two different steps at once ------------------------------------------------------------------

async def _in_progress(api):
    return await api.in_progress()


async def _refusal_pending(api):
    return await api.refusal_pending()


async def _resolved(api):
    return await api.resolved()


async def _submitted(api):
    return await api.submit()


async def _dispatched(api):
    case = await api.submit()
    return await api.step("dispatcher", case["id"], "dispatch")


PAIRS = {
    "escalate|resolve": (_in_progress, [("dispatcher", "escalate", {"reason": "提级"}),
                                        ("handler", "resolve", {"reply": "已办"})]),
    "sign|send-back": (_refusal_pending, [("section_head", "sign", {"comment": "同意"}),
                                          ("section_head", "send-back", {"comment": "请补充依据"})]),
    "extend|resolve": (_in_progress, [("handler", "extend", {"days": 2, "reason": "需勘查"}),
                                      ("handler", "resolve", {"reply": "已办"})]),
    "rate|reopen": (_resolved, [("company", "rate", {"rating": "unsatisfied"}),
                                ("company", "reopen", {"reason": "没解决"})]),
    "dispatch|withdraw": (_submitted, [("dispatcher", "dispatch", {}), ("company", "withdraw", {"reason": "撤回"})]),
    "accept|object": (_dispatched, [("handler", "accept", {}), ("handler", "object", {"reason": "不属于本部门"})]),
    "refuse|escalate": (_in_progress, [("handler", "refuse", {"reason": "不符合", "basis": "条例"}),
                                       ("dispatcher", "escalate", {"reason": "提级"})]),
}


@pytest.mark.parametrize("pair", sorted(PAIRS))
async def test_two_different_steps_at_once_keep_the_record_true(api, pair):
    """Each trial: a fresh case, both steps at once; whichever order they land in, each that
    answered 2xx is on the record once, and the row is what the record says."""
    arrange, calls = PAIRS[pair]
    outcomes = set()
    for _ in range(TRIALS):
        case = await arrange(api)
        responses = await _together(api, calls, case["id"])
        _no_server_error(responses)
        after = await _record_matches_row(api, case["id"])
        recorded = [e["action"] for e in after["timeline"][len(case["timeline"]):]]
        succeeded = [action for (_, action, _), r in zip(calls, responses) if r.status_code == 200]
        assert sorted(recorded) == sorted(succeeded), (pair, recorded, [r.status_code for r in responses])
        if "resolve" in succeeded:
            assert after["resolution"] == "已办" and after["status"] == "resolved"
        if "escalate" in succeeded:
            assert after["escalated"]
        outcomes.add(tuple(r.status_code for r in responses))
    assert outcomes  # the trials ran


# -- separation of duties -------------------------------------------------------------------------

async def test_one_person_cannot_refuse_and_sign(api):
    """Whoever refused, and whoever signed one level, cannot sign another: four different people."""
    from core.tables import Department, Membership, User
    from tenants.scope import scoped
    from tests.helpers import in_tenant, token_for

    case = await api.refusal_pending()
    async with in_tenant(api.slug):
        handler = await User.select(User.id).where(User.username == "handler@luqiao").first()
        department = await scoped(Department).select(Department.id).where(Department.code == case["department"]).first()
        for level in ("section_head", "leader", "dept_head"):
            await scoped(Membership).add(user=handler["id"], role=level, department=department["id"])
    try:
        token = await token_for("handler@luqiao", api.slug)
        api.tokens["all-in-one"] = token
        refused = await api.call("all-in-one", "POST", f"cases/{case['id']}/sign", {"comment": "同意"})
        assert refused.status_code == 403 and refused.json()["code"] == "separation_of_duties", refused.text
        await api.step("section_head", case["id"], "sign", {"comment": "同意"})
        again = await api.call("section_head", "POST", f"cases/{case['id']}/sign", {"comment": "同意"})
        assert again.status_code == 409 and again.json()["code"] == "already_signed", again.text
        shown = await api.call("all-in-one", "GET", f"cases/{case['id']}")
        assert shown.status_code == 200
    finally:
        async with in_tenant(api.slug):
            await scoped(Membership).delete().where(
                (Membership.user == handler["id"]) & Membership.role.is_in(["section_head", "leader", "dept_head"]))


# -- safe retries ---------------------------------------------------------------------------------

async def test_a_submission_sent_again_with_its_key_is_stored_once(api):
    from core.cases.tables import Case
    from tenants.scope import scoped
    from tests.helpers import in_tenant

    body = {"category": "municipal", "title": "幂等重试测试", "description": "客户端没收到答复，重发一次。"}
    headers = {"Authorization": f"Bearer {await api.token('company')}", "Idempotency-Key": "retry-7f3a"}
    url = f"/t/{api.slug}/api/v1/cases"
    responses = await asyncio.gather(*(api.client.post(url, json=body, headers=headers) for _ in range(5)))
    _no_server_error(responses)
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert len({r.json()["number"] for r in responses}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 4
    async with in_tenant(api.slug):
        assert await scoped(Case).count().where(Case.title == "幂等重试测试") == 1
    reused = await api.client.post(url, json=dict(body, title="另一件事"), headers=headers)
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    fresh = await api.client.post(url, json=body, headers=dict(headers, **{"Idempotency-Key": "retry-8b1c"}))
    assert fresh.status_code == 201 and fresh.json()["number"] != responses[0].json()["number"]


async def test_a_step_sent_again_with_its_key_gets_the_first_answer(api):
    case = await api.in_progress()
    headers = {"Authorization": f"Bearer {await api.token('handler')}", "Idempotency-Key": "resolve-1"}
    url = f"/t/{api.slug}/api/v1/cases/{case['id']}/resolve"
    first = await api.client.post(url, json={"reply": "已办"}, headers=headers)
    again = await api.client.post(url, json={"reply": "已办"}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("idempotent-replayed") == "true" and again.json() == first.json()
    after = await _record_matches_row(api, case["id"])
    assert [e["action"] for e in after["timeline"]].count("resolve") == 1


async def test_a_refused_request_keeps_no_key(api):
    """A 4xx stores nothing, its key included: the corrected request with the same key is taken."""
    case = await api.in_progress()
    headers = {"Authorization": f"Bearer {await api.token('handler')}", "Idempotency-Key": "resolve-2"}
    url = f"/t/{api.slug}/api/v1/cases/{case['id']}/refuse"
    bad = await api.client.post(url, json={"reason": "不符合"}, headers=headers)
    assert bad.status_code == 400
    good = await api.client.post(url, json={"reason": "不符合", "basis": "条例"}, headers=headers)
    assert good.status_code == 200 and good.headers.get("idempotent-replayed") is None


# -- reads and writes interleaved ------------------------------------------------------------------

async def test_thirty_clients_reading_and_filing_get_no_5xx(api):
    """30 clients at once, two thirds reading a case, one third filing: every answer a success."""
    from core.cases.tables import Case
    from tenants.scope import scoped
    from tests.helpers import in_tenant, token_for

    case = await api.submit()
    readers = [await token_for(f"{role}@luqiao", "luqiao") for role in ("dispatcher", "inspector", "tenant_admin")]
    writer = await api.token("company")
    url = f"/t/{api.slug}/api/v1/cases"

    async def client(n: int) -> list:
        answers = []
        for i in range(6):
            if n % 3 == 0:
                answers.append(await api.client.post(url, json={
                    "category": "municipal", "title": f"并发提交 {n}-{i}", "description": "同时读写"},
                    headers={"Authorization": f"Bearer {writer}"}))
            else:
                answers.append(await api.client.get(f"{url}/{case['id']}",
                                                    headers={"Authorization": f"Bearer {readers[n % 3]}"}))
        return answers

    answers = [a for batch in await asyncio.gather(*(client(n) for n in range(30))) for a in batch]
    _no_server_error(answers)
    assert {a.status_code for a in answers} == {200, 201}
    async with in_tenant(api.slug):
        assert await scoped(Case).count().where(Case.title.like("并发提交 %")) == 60
