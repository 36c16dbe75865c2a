"""The case lifecycle through the JSON API: the happy path, the refusal path with its three
sign-offs and a send-back at each level, review, re-dispatch, rating; and the role matrix."""

import pytest

from tests.cases_helpers import ROLES, Api


@pytest.fixture
async def api(app):
    return Api(app)


def actions(case):
    return [(e["action"], e["actor"], e["role"], e["reason"]) for e in case["timeline"]]


async def test_happy_path(api):
    case = await api.submit()
    assert case["status"] == "submitted" and case["number"].startswith("LU")
    case = await api.step("dispatcher", case["id"], "dispatch")
    assert case["status"] == "dispatched" and case["department"] == "zgj" and case["due_date"]
    case = await api.step("handler", case["id"], "accept")
    assert case["status"] == "in_progress" and case["handler"]
    case = await api.step("handler", case["id"], "resolve", {"reply": "已安排疏通，管道恢复畅通。"})
    assert case["status"] == "resolved"
    case = await api.step("company", case["id"], "rate", {"rating": "satisfied", "comment": "很快"})
    assert case["status"] == "closed" and case["rating"] == "satisfied"
    steps = actions(case)
    assert [s[0] for s in steps] == ["submit", "dispatch", "accept", "resolve", "rate"]
    assert all(s[1] for s in steps) and steps[3][3] == "已安排疏通，管道恢复畅通。" and steps[4][3] == "很快"
    assert [s[2] for s in steps] == ["company", "dispatcher", "handler", "handler", "company"]


async def test_refusal_path_review_overturned_and_redispatched(api):
    case = await api.refusal_pending()
    company_view = await api.get("company", case["id"])
    assert company_view["status"] == "refusal_pending" and company_view["refusals"] == []
    # The chain is ordered: the leader cannot sign before the section head.
    await api.step("leader", case["id"], "sign", {}, expect=403)
    for level in ("section_head", "leader", "dept_head"):
        case = await api.step(level, case["id"], "sign", {"comment": f"{level} 同意"})
    assert case["status"] == "refused" and case["refused"]
    company_view = await api.get("company", case["id"])
    [refusal] = company_view["refusals"]
    assert refusal["reason"] == "不符合现行政策" and refusal["basis"] == "某某条例第五条"
    assert [s["level"] for s in refusal["signoffs"]] == ["section_head", "leader", "dept_head"]
    assert all(s["signer"] for s in refusal["signoffs"])

    case = await api.step("company", case["id"], "request-review", {"reason": "企业不认可"})
    assert case["status"] == "under_review"
    await api.step("reviewer", case["id"], "rule", {"verdict": "overturned", "reason": "x"}, expect=409)
    await api.step("reviewer", case["id"], "schedule-hearing",
                   {"hearing_at": "2026-12-01T09:30:00+08:00", "place": "区人大常委会会议室"})
    case = await api.step("reviewer", case["id"], "rule", {
        "verdict": "overturned", "reason": "非企业原因，部门应想办法解决", "record": "问：依据？答：……"})
    assert case["status"] == "dispatched" and case["overturned"] and case["due_date"]
    case = await api.step("handler", case["id"], "accept")
    case = await api.step("handler", case["id"], "resolve", {"reply": "二次交办后已办结"})
    case = await api.step("company", case["id"], "rate", {"rating": "basically_satisfied"})
    assert case["status"] == "closed" and case["overturned"]
    steps = [s[0] for s in actions(case)]
    assert steps == ["submit", "dispatch", "accept", "refuse", "sign", "sign", "sign", "request-review",
                     "schedule-hearing", "rule", "accept", "resolve", "rate"]
    rule = [e for e in case["timeline"] if e["action"] == "rule"][0]
    assert rule["reason"] == "非企业原因，部门应想办法解决" and rule["actor"] and rule["after"] == "dispatched"
    # Overturned counts forever: it stays in the overturned filter after closing.
    listed = (await api.call("dispatcher", "GET", "cases?overturned=true&per_page=100")).json()
    assert case["id"] in [c["id"] for c in listed["items"]]


async def test_upheld_review_closes_the_case_as_refused(api):
    case = await api.under_review(hearing=True)
    case = await api.step("reviewer", case["id"], "rule", {"verdict": "upheld", "reason": "依据充分"})
    assert case["status"] == "closed" and not case["overturned"]


@pytest.mark.parametrize("level", ["section_head", "leader", "dept_head"])
async def test_send_back_at_each_level(api, level):
    case = await api.refusal_pending()
    for earlier in ("section_head", "leader", "dept_head"):
        if earlier == level:
            break
        case = await api.step(earlier, case["id"], "sign")
    await api.step(level, case["id"], "send-back", {}, expect=400)  # a send-back needs its comment
    case = await api.step(level, case["id"], "send-back", {"comment": "依据不充分，请补充"})
    assert case["status"] == "in_progress"
    back = [e for e in case["timeline"] if e["action"] == "send-back"][0]
    assert back["role"] == level and back["reason"] == "依据不充分，请补充"
    assert (await api.get("company", case["id"]))["refusals"] == []
    case = await api.step("handler", case["id"], "resolve", {"reply": "补充材料后已办理"})
    assert case["status"] == "resolved"


async def test_reopen_once_after_unsatisfied(api):
    case = await api.resolved()
    await api.step("company", case["id"], "rate", {"rating": "unsatisfied", "comment": "没解决"})
    case = await api.step("company", case["id"], "reopen", {"reason": "问题依旧"})
    assert case["status"] == "in_progress"
    await api.step("handler", case["id"], "resolve", {"reply": "再次处理"})
    await api.step("company", case["id"], "rate", {"rating": "unsatisfied"})
    await api.step("company", case["id"], "reopen", {"reason": "again"}, expect=409)


async def test_withdraw_merge_escalate_extend_object(api):
    first = await api.submit(title="重复诉求A")
    second = await api.submit(title="重复诉求B")
    merged = await api.step("dispatcher", second["id"], "merge", {"into": first["number"]})
    assert merged["status"] == "merged"
    withdrawn = await api.step("company", first["id"], "withdraw", {"reason": "已自行解决"})
    assert withdrawn["status"] == "withdrawn"

    case = await api.in_progress()
    case = await api.step("dispatcher", case["id"], "escalate", {"reason": "涉及多个部门"})
    assert case["escalated"] and case["status"] == "in_progress"
    await api.step("dispatcher", case["id"], "escalate", {"reason": "again"}, expect=409)
    listed = (await api.call("leader", "GET", "cases?escalated=true&per_page=100")).json()
    assert case["id"] in [c["id"] for c in listed["items"]]

    due = case["due_date"]
    await api.step("handler", case["id"], "extend", {"days": 3, "reason": "需现场勘查"})
    await api.step("handler", case["id"], "extend", {"days": 3, "reason": "again"}, expect=409)
    case = await api.step("leader", case["id"], "decide-extension", {"decision": "approve"})
    assert case["due_date"] > due

    case = await api.submit()
    await api.step("dispatcher", case["id"], "dispatch")
    await api.step("handler", case["id"], "object", {"reason": "不属于本部门职责"})
    case = await api.step("dispatcher", case["id"], "decide-objection",
                          {"decision": "accept", "department": "scjg", "comment": "改派市场监管局"})
    assert case["department"] == "scjg" and case["status"] == "dispatched"


# -- the role matrix ------------------------------------------------------------------------------

async def _state_for(api: Api, action: str) -> tuple[dict, dict]:
    """A case where `action` is possible now, and the body the action needs."""
    body: dict = {}
    if action in ("dispatch", "withdraw", "merge"):
        case = await api.submit()
        if action == "merge":
            target = await api.submit(title="合并目标")
            body = {"into": target["number"]}
    elif action == "attach-company":
        case = await api.anonymous()
        body = {"company": (await api.call("dispatcher", "GET", "companies")).json()[0]["credit_code"]}
    elif action == "accept":
        case = await api.submit()
        case = await api.step("dispatcher", case["id"], "dispatch")
    elif action in ("object", "decide-objection"):
        case = await api.submit()
        case = await api.step("dispatcher", case["id"], "dispatch")
        body = {"reason": "不属于本部门"}
        if action == "decide-objection":
            case = await api.step("handler", case["id"], "object", body)
            body = {"decision": "reject", "comment": "维持"}
    elif action in ("extend", "decide-extension", "resolve", "refuse", "escalate"):
        case = await api.in_progress()
        body = {"extend": {"days": 2, "reason": "需勘查"}, "resolve": {"reply": "已办"},
                "refuse": {"reason": "不符合", "basis": "条例"}, "escalate": {"reason": "提级"},
                "decide-extension": {"decision": "approve"}}[action]
        if action == "decide-extension":
            case = await api.step("handler", case["id"], "extend", {"days": 2, "reason": "需勘查"})
    elif action in ("sign", "send-back"):
        case = await api.refusal_pending()
        body = {"comment": "退回补充"}
    elif action == "request-review":
        case = await api.refused()
    elif action == "redispatch":  # 二次交办 of a refused case (alone here; in bulk: tests/test_redispatch.py)
        case = await api.refused()
        body = {"reason": "重新办理"}
    elif action in ("schedule-hearing", "rule"):
        case = await api.under_review(hearing=action == "rule")
        body = ({"hearing_at": "2026-12-01T09:30:00+08:00", "place": "会议室"} if action == "schedule-hearing"
                else {"verdict": "upheld", "reason": "依据充分"})
    elif action == "rate":
        case = await api.resolved()
        body = {"rating": "satisfied"}
    elif action in ("advance", "settle-advance"):  # 先垫资: on a case of the leader's department
        case = await api.in_progress()
        body = {"amount": "800", "authorised_by": "镇长", "work": "先行垫资疏通"}
        if action == "settle-advance":
            case = await api.step("dispatcher", case["id"], "advance", body)
            body = {"department": case["department"], "amount": "800"}
    elif action == "reopen":
        case = await api.resolved()
        case = await api.step("company", case["id"], "rate", {"rating": "unsatisfied"})
        body = {"reason": "没解决"}
    else:
        raise AssertionError(action)
    return case, body


ALLOWED = {
    "dispatch": {"dispatcher"}, "attach-company": {"dispatcher"}, "accept": {"handler"},
    "object": {"handler", "section_head", "dept_head"},
    "decide-objection": {"dispatcher"}, "extend": {"handler"}, "decide-extension": {"leader"},
    "resolve": {"handler"}, "refuse": {"handler"}, "sign": {"section_head"}, "send-back": {"section_head"},
    "request-review": {"company", "dispatcher"}, "schedule-hearing": {"reviewer"}, "rule": {"reviewer"},
    "escalate": {"dispatcher"}, "rate": {"company"}, "reopen": {"company"}, "withdraw": {"company"},
    "merge": {"dispatcher"}, "advance": {"dispatcher", "leader", "tenant_admin"},
    "settle-advance": {"dispatcher", "leader", "tenant_admin"}, "redispatch": {"dispatcher", "leader"},
}


@pytest.mark.parametrize("action", sorted(ALLOWED))
async def test_role_matrix(api, action):
    from core.cases.lifecycle import ACTIONS

    assert set(ALLOWED) == set(ACTIONS)
    case, body = await _state_for(api, action)
    for role in ROLES:
        if role in ALLOWED[action]:
            continue
        response = await api.call(role, "POST", f"cases/{case['id']}/{action}", body)
        # 403 with a reason; 404 where the role may not even see the case (its department has it not yet).
        assert response.status_code in (403, 404), (action, role, response.status_code, response.text)
        assert response.json()["message"]
        if role in ("dispatcher", "reviewer", "inspector", "tenant_admin", "system_admin", "company") and not (
                action == "attach-company" and role == "company"):  # a case with no company is not the company's
            assert response.status_code == 403, (action, role)
    unchanged = await api.get("dispatcher", case["id"])
    assert unchanged["version"] == case["version"] and unchanged["status"] == case["status"]
    for role in sorted(ALLOWED[action]):
        fresh, body = await _state_for(api, action)
        done = await api.step(role, fresh["id"], action, body)
        assert done["version"] == fresh["version"] + 1


async def test_a_step_in_the_wrong_state_is_409_with_a_reason(api):
    case = await api.submit()
    response = await api.call("company", "POST", f"cases/{case['id']}/rate", {"rating": "satisfied"})
    assert response.status_code == 409
    assert "待交办" in response.json()["message"]
