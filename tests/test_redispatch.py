"""Bulk re-dispatch (批量二次交办): refused cases selected with the console's filters go back to their
departments with one reason, each through the lifecycle's own step (event, fresh deadline), each
exactly once — also when the same batch is posted twice at the same moment or a job message is
delivered again; more than 100 run in the background with progress; a case under review is skipped."""

import asyncio
import json
import uuid
from datetime import timedelta

from core.cases import redispatch, states as S
from core.cases.redispatch_tables import RedispatchBatch, RedispatchItem
from core.cases.search import index_text
from core.cases.tables import Case, Company, Event
from core.clock import now, today
from core.tables import Category, Department
from core.workdays import load_calendar
from tenants.demo import load_demo
from tenants.scope import scoped
from tests.cases_helpers import Api
from tests.helpers import DEMO_PASSWORD, Browser, in_tenant, process_background

SLUG = "redispatchdist"
MANIFEST = f'''
slug = "{SLUG}"
name_zh = "二次交办测试区"
name_en = "Re-dispatch district"
kind = "district"

[settings]
demo_cases = 0

[[departments]]
code = "zgj"
name_zh = "住建局"

[[departments]]
code = "other"
name_zh = "其他局"

[[categories]]
code = "municipal"
name_zh = "市政设施"
lead = "zgj"
deadline_days = 5
'''
_made: list[str] = []


async def tenant() -> str:
    if not _made:
        await load_demo(DEMO_PASSWORD, [MANIFEST])
        _made.append(SLUG)
    return SLUG


async def refused_cases(count: int, department: str = "zgj", title: str = "批量拒办") -> list[int]:
    """`count` cases refused (their sign-off chain done) in `department`, written directly."""
    async with in_tenant(SLUG):
        dept = (await scoped(Department).select(Department.id).where(Department.code == department).first())["id"]
        cat = (await scoped(Category).select(Category.id).first())["id"]
        company = await scoped(Company).select(Company.id).first()
        if company is None:
            company = {"id": (await scoped(Company).add(name="测试企业", credit_code="91331004000012345X")).id}
        t0 = now() - timedelta(days=20)
        rows = await Case.insert(*[scoped(Case).new(
            company=company["id"], category=cat, title=f"{title} {i}", description="d",
            number=f"RD{uuid.uuid4().hex[:10].upper()}", department=dept, status=S.REFUSED, refused_count=1,
            submitted_at=t0, dispatched_at=t0, accepted_at=t0, due_date=(t0 + timedelta(days=7)).date(),
            search_text=index_text(f"{title} {i}")) for i in range(count)]).returning(Case.id)
    return [r["id"] for r in rows]


async def events_of(case_ids: list[int], action: str = "redispatch") -> dict[int, list[dict]]:
    async with in_tenant(SLUG):
        rows = await scoped(Event).select(Event.case, Event.data, Event.reason).where(
            Event.case.is_in(case_ids) & (Event.action == action))
    found: dict[int, list[dict]] = {i: [] for i in case_ids}
    for r in rows:
        found[r["case"]].append({**json.loads(r["data"]), "reason": r["reason"]})
    return found


async def test_150_refused_cases_by_one_background_job_each_exactly_once(app):
    await tenant()
    ids = await refused_cases(150, title="积水拒办")
    api = Api(app, SLUG)
    under_review = await api.under_review()  # the company asked for a review: the panel rules first
    other = await refused_cases(2, department="other", title="积水拒办")  # not selected: another department
    body = {"reason": "区里复核：拒办理由不充分，重新办理", "key": uuid.uuid4().hex, "status": "", "refused": True,
            "department": "zgj", "q": "积水"}
    async with in_tenant(SLUG):
        await scoped(Case).update({Case.search_text: index_text("积水")}).where(Case.id == under_review["id"])
    # The same batch posted twice at the same moment: one batch.
    first, second = await asyncio.gather(*[api.call("dispatcher", "POST", "cases/redispatch", body) for _ in range(2)])
    assert (first.status_code, second.status_code) == (202, 202), (first.text, second.text)
    a, b = first.json(), second.json()
    assert a["id"] == b["id"] and sorted([a["created"], b["created"]]) == [False, True]
    assert a["total"] == 151 and a["status"] == "queued" and a["redispatched"] == 0
    async with in_tenant(SLUG):
        assert await scoped(RedispatchBatch).count().where(RedispatchBatch.key == body["key"]) == 1
        assert await scoped(Case).count().where(Case.id.is_in(ids) & (Case.status == S.REFUSED)) == 150

    # One chunk: the progress shows on the batch's page and in the API.
    async with in_tenant(SLUG):
        assert not await redispatch.apply(a["id"])
    progress = (await api.call("dispatcher", "GET", f"cases/redispatch/{a['id']}")).json()
    assert progress["status"] == "running" and progress["redispatched"] == redispatch.CHUNK
    assert progress["processed"] == redispatch.CHUNK + 1 and progress["skipped"] == 1
    browser = Browser(app)
    await browser.login(f"dispatcher@{SLUG}", SLUG)
    page = await browser.get(f"/t/{SLUG}/cases/redispatch/{a['id']}")
    assert 'data-status="running"' in page.text and f'value="{redispatch.CHUNK + 1}" max="151"' in page.text
    assert 'hx-trigger="every 1s"' in page.text

    await process_background()
    done = (await api.call("dispatcher", "GET", f"cases/redispatch/{a['id']}")).json()
    assert done["status"] == "done" and done["redispatched"] == 150 and done["skipped"] == 1
    assert done["skipped_cases"] == [{"id": under_review["id"], "number": under_review["number"],
                                      "note": "under_review"}]
    # A message delivered again, or the batch posted once more later: nothing re-dispatched twice.
    async with in_tenant(SLUG):
        assert await redispatch.apply(a["id"])
    again = await api.call("dispatcher", "POST", "cases/redispatch", body)
    assert again.status_code == 202 and again.json()["id"] == a["id"] and again.json()["created"] is False

    due = (await load_calendar()).add_working_days(today(), 5).date
    events = await events_of(ids + other + [under_review["id"]])
    async with in_tenant(SLUG):
        rows = {r["id"]: r for r in await scoped(Case).select(
            Case.id, Case.status, Case.redispatch_count, Case.due_date, Case.handler).where(Case.id.is_in(ids))}
        assert await scoped(RedispatchItem).count().where(RedispatchItem.batch == a["id"]) == 151
    for case_id in ids:
        row = rows[case_id]
        assert row["status"] == S.DISPATCHED and row["redispatch_count"] == 1 and row["handler"] is None
        assert str(row["due_date"]) == str(due)  # a fresh working-day deadline from today
        assert len(events[case_id]) == 1, case_id
        assert events[case_id][0]["batch"] == a["id"] and events[case_id][0]["reason"] == body["reason"]
    assert all(events[i] == [] for i in other + [under_review["id"]])


async def test_a_small_batch_runs_at_once_and_a_second_batch_skips_what_the_first_took(app):
    await tenant()
    ids = await refused_cases(3, title="小批")
    api = Api(app, SLUG)
    body = {"reason": "重新办理", "key": uuid.uuid4().hex, "status": S.REFUSED, "q": "小批"}
    first, second = await asyncio.gather(
        api.call("dispatcher", "POST", "cases/redispatch", body),
        api.call("dispatcher", "POST", "cases/redispatch", {**body, "key": uuid.uuid4().hex}))
    answers = sorted([first, second], key=lambda r: -r.json().get("redispatched", -1))
    assert answers[0].status_code == 202 and answers[0].json()["status"] == "done", answers[0].text
    assert answers[0].json()["redispatched"] == 3
    # Two different batches at once: the later one finds the cases re-dispatched already — nothing
    # selected, or (when it selected them before the first committed) each skipped by the lifecycle.
    later = answers[1]
    assert later.json().get("code") == "nothing_selected" or (
        later.json()["redispatched"] == 0 and later.json()["skipped"] == 3), later.text
    events = await events_of(ids)
    assert all(len(e) == 1 for e in events.values())


async def test_who_may_and_what_is_refused(app):
    await tenant()
    api = Api(app, SLUG)
    real = await api.refused()  # through the whole chain: refused, three sign-offs
    body = {"reason": "重新办理", "key": uuid.uuid4().hex, "q": real["number"], "status": S.REFUSED}
    assert (await api.call("handler", "POST", "cases/redispatch", body)).status_code == 403
    assert (await api.call("company", "POST", "cases/redispatch", body)).status_code == 403
    empty = await api.call("dispatcher", "POST", "cases/redispatch", {**body, "q": "没有这种案件"})
    assert empty.status_code == 400 and empty.json()["code"] == "nothing_selected"
    no_reason = await api.call("dispatcher", "POST", "cases/redispatch", {**body, "reason": " "})
    assert no_reason.status_code == 400
    bad_key = await api.call("dispatcher", "POST", "cases/redispatch", {**body, "key": "x"})
    assert bad_key.status_code == 400
    async with in_tenant(SLUG):
        assert await scoped(RedispatchBatch).count().where(RedispatchBatch.key == body["key"]) == 0
    # A leader re-dispatches the refused cases of the department in charge.
    leader = await api.call("leader", "POST", "cases/redispatch", body)
    assert leader.status_code == 202 and leader.json()["redispatched"] == 1, leader.text
    assert (await api.call("handler", "GET", f"cases/redispatch/{leader.json()['id']}")).status_code == 403
    case = await api.get("handler", real["id"])
    assert case["status"] == S.DISPATCHED and case["timeline"][-1]["action"] == "redispatch"
    assert case["timeline"][-1]["role"] == "leader" and case["timeline"][-1]["reason"] == "重新办理"
    # The department takes it again; the record replays to the row.
    await api.step("handler", real["id"], "accept")
    from core.cases.replay import CASE_FIELDS, EVENT_FIELDS, compare, replay

    async with in_tenant(SLUG):
        events = await scoped(Event).select(*EVENT_FIELDS).where(Event.case == real["id"]).order_by(Event.seq)
        row = await scoped(Case).select(*CASE_FIELDS).where(Case.id == real["id"]).first()
        departments = {r["id"]: r["code"] for r in await scoped(Department).select(Department.id, Department.code)}
    assert compare(replay(events), row, departments, 0) is None
