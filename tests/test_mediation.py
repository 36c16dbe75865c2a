"""Court financial-dispute mediation (和合金融) at the court `luqiao-court`, a tenant of its own:
a dispute end to end (intake → 活封 → two sessions → 6-instalment settlement → payments, one late
within grace → completed, measures lifted), one that defaults, is enforced and takes a payment
against the enforcement, a default cured before enforcement, refused back-dated plans, numbers
per court and year under parallel intake, the sweep's preview and run (page, API, command),
refusals with clear messages, the survival rate on the dashboard, the walls between banks, and
a tenant without the plugin.  Referrals across tenant links are in test_courts."""

import io
import re
import uuid
from datetime import timedelta

import pytest

from core.cases.tables import Company
from core.clock import today
from plugins.mediation import repayment
from plugins.mediation.tables import Dispute, DisputeEvent
from tenants.onboarding import ensure_membership, ensure_user
from tenants.scope import scoped
from tests.cases_helpers import Api
from tests.helpers import DEMO_PASSWORD, Browser, in_tenant, process_background, token_for

JUDGE, CLERK, MEDIATOR, BANK = "mediation_judge", "mediation_court", "mediation_mediator", "mediation_bank"
COURT = "luqiao-court"


@pytest.fixture
async def api(app):
    return Api(app, COURT)


async def company_code() -> str:
    async with in_tenant(COURT):
        return (await scoped(Company).select(Company.credit_code).order_by(Company.id).first())["credit_code"]


async def other_code(not_code: str) -> str:
    async with in_tenant(COURT):
        row = await scoped(Company).select(Company.credit_code).where(Company.credit_code != not_code).first()
        return row["credit_code"]


async def call(api: Api, role: str, method: str, path: str, body: dict | None = None, expect: int = 200) -> dict:
    response = await api.call(role, method, f"mediation/{path}", body)
    assert response.status_code == expect, (role, path, response.status_code, response.text)
    return response.json()


async def intake(api: Api, debtor: str, bank: str = f"mediation_bank@{COURT}", case: int | None = None) -> dict:
    body = {"debtor": debtor, "creditor": "台州银行路桥支行", "creditor_user": bank, "guarantors": ["张三"],
            "principal_fen": 6_000_000_00, "interest_fen": 300_000_00, "costs_fen": 12_345,
            "judge": f"mediation_judge@{COURT}", "mediator": f"mediation_mediator@{COURT}"}
    if case is not None:
        body["case"] = case
    return await call(api, CLERK, "POST", "disputes", body, expect=201)


async def sweep(on) -> dict:
    async with in_tenant(COURT):
        return await repayment.sweep(on)


async def steps_of(dispute_id: int) -> list[str]:
    async with in_tenant(COURT):
        return [r["step"] for r in await scoped(DisputeEvent).select(DisputeEvent.step).where(
            DisputeEvent.dispute == dispute_id).order_by(DisputeEvent.id)]


def plan(settled: int, n: int, first_days: int = 10):
    part = settled // n
    return [{"due_on": (today() + timedelta(days=first_days + 30 * i)).isoformat(),
             "amount_fen": part if i < n - 1 else settled - part * (n - 1)} for i in range(n)]


async def settled_dispute(api: Api, debtor: str, n: int = 6, case: int | None = None, bank: str | None = None) -> dict:
    d = await intake(api, debtor, case=case, **({"bank": bank} if bank else {}))
    await call(api, MEDIATOR, "POST", f"disputes/{d['id']}/session",
               {"held_at": "2026-12-01T09:30:00+08:00", "place": "路桥法院调解室", "participants": "双方代理人",
                "minutes": "银行同意分期", "outcome": "continued"})
    await call(api, MEDIATOR, "POST", f"disputes/{d['id']}/session",
               {"video_link": "https://meeting.example/abc", "participants": "双方", "outcome": "agreed"})
    settled = 6_000_000_00
    await call(api, MEDIATOR, "POST", f"disputes/{d['id']}/settle",
               {"settled_fen": settled, "terms": "分六期清偿本金，免除罚息。", "plan": plan(settled, n)})
    return await call(api, JUDGE, "POST", f"disputes/{d['id']}/confirm", {"ref": "(2026)浙1004民特88号"})


async def test_a_dispute_runs_end_to_end(api):
    code = await company_code()
    d = await intake(api, code)
    assert d["status"] == "mediating" and d["court"] == "台州市路桥区人民法院"
    assert {p["role"] for p in d["parties"]} == {"creditor", "debtor", "guarantor"}
    d = await call(api, CLERK, "POST", f"disputes/{d['id']}/measure", {"asset_kind": "equipment", "asset": "数控机床三台"})
    m = d["measures"][0]
    assert m["restrict_transfer"] and not m["restrict_use"] and not m["restrict_mortgage"] and m["lifted_on"] is None
    for body in ({"held_at": "2026-12-01T09:30:00+08:00", "place": "调解室", "outcome": "continued"},
                 {"video_link": "https://meeting.example/x", "outcome": "agreed", "minutes": "达成一致"}):
        d = await call(api, MEDIATOR, "POST", f"disputes/{d['id']}/session", body)
    assert len(d["sessions"]) == 2
    settled = 6_000_000_00
    bad = plan(settled, 6)
    bad[-1]["amount_fen"] -= 1
    refused = await call(api, MEDIATOR, "POST", f"disputes/{d['id']}/settle",
                         {"settled_fen": settled, "terms": "分期", "plan": bad}, expect=400)
    assert "add up" in refused["message"] or "合计" in refused["message"], refused
    good = plan(settled, 6)
    d = await call(api, MEDIATOR, "POST", f"disputes/{d['id']}/settle",
                   {"settled_fen": settled, "terms": "分六期清偿", "plan": good})
    assert d["status"] == "settled" and len(d["instalments"]) == 6
    d = await call(api, JUDGE, "POST", f"disputes/{d['id']}/confirm", {"ref": "(2026)浙1004民特1号"})
    assert d["status"] == "repaying" and d["agreement"]["confirmation_ref"]
    amounts = [i["amount_fen"] for i in d["instalments"]]
    await call(api, CLERK, "POST", f"disputes/{d['id']}/pay", {"amount_fen": amounts[0], "instalment": 1})
    due2 = today() + timedelta(days=40)
    counts = await sweep(due2 + timedelta(days=5))  # overdue by 5 days, within the 15-day grace
    assert counts["overdue"] >= 1
    assert (await sweep(due2 + timedelta(days=5)))["overdue"] == 0  # idempotent
    d = await call(api, CLERK, "GET", f"disputes/{d['id']}")
    assert d["status"] == "repaying" and d["instalments"][1]["status"] == "overdue"
    d = await call(api, CLERK, "POST", f"disputes/{d['id']}/pay",
                   {"amount_fen": amounts[1], "paid_on": (due2 + timedelta(days=5)).isoformat()})
    assert d["instalments"][1]["status"] == "paid" and d["instalments"][1]["late"]
    for seq in range(3, 7):
        d = await call(api, CLERK, "POST", f"disputes/{d['id']}/pay", {"amount_fen": amounts[seq - 1]})
    assert d["status"] == "completed"
    assert all(m["lifted_on"] for m in d["measures"])
    refused = await call(api, CLERK, "POST", f"disputes/{d['id']}/pay", {"amount_fen": 100}, expect=409)
    assert "closed" in refused["message"] or "已结" in refused["message"], refused
    steps = await steps_of(d["id"])
    for step in ("intake", "measure", "session", "settle", "confirm", "pay", "overdue", "complete", "lift"):
        assert step in steps, (step, steps)
    assert steps.count("session") == 2 and steps.count("pay") == 6


async def test_default_opens_enforcement(api):
    code = await other_code(await company_code())
    d = await settled_dispute(api, code, n=2)
    assert d["status"] == "repaying"
    refused = await call(api, JUDGE, "POST", f"disputes/{d['id']}/enforce", {"outcome": "执行"}, expect=409)
    assert "default" in refused["message"] or "违约" in refused["message"]
    due1 = today() + timedelta(days=10)
    await sweep(due1 + timedelta(days=15))  # the last day of grace: not yet a default
    d = await call(api, CLERK, "GET", f"disputes/{d['id']}")
    assert d["status"] == "repaying"
    await sweep(due1 + timedelta(days=16))
    d = await call(api, CLERK, "GET", f"disputes/{d['id']}")
    assert d["status"] == "defaulted"
    await call(api, JUDGE, "POST", f"disputes/{d['id']}/conclude", {"outcome": "执行"}, expect=409)
    d = await call(api, JUDGE, "POST", f"disputes/{d['id']}/enforce", {})
    assert d["status"] == "enforcing"
    d = await call(api, CLERK, "POST", f"disputes/{d['id']}/pay", {"amount_fen": 1_000_000_00})
    assert d["payments"][-1]["against"] == "enforcement" and d["enforcement_recovered_fen"] == 1_000_000_00
    assert all(i["paid_fen"] == 0 for i in d["instalments"])  # not against the plan any more
    assert d["status"] == "enforcing"
    d = await call(api, JUDGE, "POST", f"disputes/{d['id']}/conclude",
                   {"outcome": "拍卖查封设备，执行到位", "recovered_fen": 3_000_000_00})
    assert d["status"] == "enforced" and d["enforcement_recovered_fen"] == 3_000_000_00
    steps = await steps_of(d["id"])
    assert steps.index("default") < steps.index("enforce") < steps.index("conclude")
    await call(api, CLERK, "POST", f"disputes/{d['id']}/pay", {"amount_fen": 100}, expect=409)
    await process_background()


async def test_a_default_is_cured_when_everything_overdue_is_paid_before_enforcement(api):
    d = await settled_dispute(api, await company_code(), n=3)
    due1 = today() + timedelta(days=10)
    late = due1 + timedelta(days=16)
    await sweep(late)
    d = await call(api, CLERK, "GET", f"disputes/{d['id']}")
    assert d["status"] == "defaulted"
    first = d["instalments"][0]["amount_fen"]
    d = await call(api, CLERK, "POST", f"disputes/{d['id']}/pay", {"amount_fen": first - 100})
    assert d["status"] == "defaulted"  # still something overdue
    d = await call(api, CLERK, "POST", f"disputes/{d['id']}/pay", {"amount_fen": 100})
    assert d["status"] == "repaying" and d["instalments"][0]["status"] == "paid"
    steps = await steps_of(d["id"])
    assert steps.index("default") < steps.index("cure"), steps  # the record shows both
    assert [e["after"] for e in d["events"] if e["step"] in ("default", "cure")] == ["defaulted", "repaying"]


async def test_back_dated_or_unordered_instalments_are_refused_and_nothing_is_stored(api):
    d = await intake(api, await company_code())
    settled = 1_000_000
    for bad, field in (([("2020-01-01", settled)], "plan[0].due_on"),
                       ([("2027-03-01", settled // 2), ("2027-02-01", settled - settled // 2)], "plan[1].due_on"),
                       ([("2027-03-01", settled // 2), ("2027-03-01", settled - settled // 2)], "plan[1].due_on")):
        body = {"settled_fen": settled, "terms": "分期", "signed_on": "2026-12-06",
                "plan": [{"due_on": due, "amount_fen": amount} for due, amount in bad]}
        refused = await call(api, MEDIATOR, "POST", f"disputes/{d['id']}/settle", body, expect=400)
        assert field in refused["message"], refused
    d = await call(api, CLERK, "GET", f"disputes/{d['id']}")
    assert d["status"] == "mediating" and d["instalments"] == [] and d["agreement"] is None


async def test_numbers_per_court_and_year_unique_under_parallel_intakes(api):
    import asyncio

    code = await company_code()
    made = await asyncio.gather(*(intake(api, code) for _ in range(20)))
    numbers = sorted(d["number"] for d in made)
    year = today().year
    assert len(set(numbers)) == 20 and all(re.fullmatch(rf"HH{year}-\d{{5}}", n) for n in numbers), numbers
    seq = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert seq == list(range(seq[0], seq[0] + 20))  # no gaps, no doubles


async def test_the_sweep_preview_changes_nothing_and_the_sweep_makes_exactly_those_changes(app, api):
    d = await settled_dispute(api, await company_code(), n=2)
    day = (today() + timedelta(days=10 + 16)).isoformat()  # overdue past the grace period
    before = await call(api, CLERK, "GET", f"disputes/{d['id']}")
    await call(api, JUDGE, "GET", f"sweep?on={day}", expect=403)  # the court's administrator only
    preview = await call(api, "tenant_admin", "GET", f"sweep?on={day}")
    assert preview["dry_run"] and preview["on"] == day
    mine = [c for c in preview["changes"] if c["dispute"] == d["id"]]
    assert [c["change"] for c in mine] == ["overdue", "default"], mine
    after = await call(api, CLERK, "GET", f"disputes/{d['id']}")
    assert after == before  # the preview changed nothing
    b = Browser(app)
    await b.login(f"tenant_admin@{COURT}", COURT)
    shown = await b.get(f"/t/{COURT}/mediation/sweep?on={day}")
    assert shown.status_code == 200 and d["number"] in shown.text and 'data-change="default"' in shown.text
    ran = await b.post(f"/t/{COURT}/mediation/sweep", {"on": day})
    assert ran.status_code == 200 and "data-sweep-done" in ran.text
    again = await call(api, "tenant_admin", "GET", f"sweep?on={day}")
    assert again["changes"] == []  # the run made the previewed changes, and no more are left
    d = await call(api, CLERK, "GET", f"disputes/{d['id']}")
    assert d["status"] == "defaulted" and d["instalments"][0]["status"] == "overdue"


async def test_the_sweep_runs_on_the_courts_local_day(monkeypatch):
    from datetime import datetime, timezone

    import core.clock

    monkeypatch.setattr(core.clock, "now", lambda: datetime(2026, 12, 6, 17, 30, tzinfo=timezone.utc))
    assert repayment.local_day().isoformat() == "2026-12-07"  # 01:30 in Shanghai


async def test_the_cli_sweep_previews_and_runs(api):
    from plugins.mediation.sweeping import command

    d = await settled_dispute(api, await company_code(), n=2)
    day = (today() + timedelta(days=10 + 16)).isoformat()
    preview = await command(COURT, day, dry_run=True)
    assert {"dispute": d["id"], "change": "default"}.items() <= next(
        c for c in preview["changes"] if c["dispute"] == d["id"] and c["change"] == "default").items()
    assert (await call(api, CLERK, "GET", f"disputes/{d['id']}"))["status"] == "repaying"
    done = await command(COURT, day)
    assert done["changes"] == preview["changes"]
    assert (await call(api, CLERK, "GET", f"disputes/{d['id']}"))["status"] == "defaulted"


def test_qinqing_mediation_sweep_is_a_command_of_the_cli():
    import subprocess
    import sys

    from tests.conftest import ROOT

    done = subprocess.run([sys.executable, "-m", "cli", "mediation", "sweep", "--tenant", COURT, "--dry-run"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"sweep of {COURT} on ") and "would change" in done.stdout


async def test_bad_amounts_are_refused_with_a_clear_message(api):
    d = await settled_dispute(api, await company_code())
    for amount in (-100, 0):
        body = await call(api, CLERK, "POST", f"disputes/{d['id']}/pay", {"amount_fen": amount}, expect=400)
        assert "greater than zero" in body["message"] or "大于零" in body["message"], body
    await call(api, CLERK, "POST", f"disputes/{d['id']}/pay", {"amount_fen": 1.5}, expect=400)
    await call(api, CLERK, "POST", "disputes", {"debtor": "nope", "creditor": "x", "principal_fen": 1}, expect=400)
    await call(api, CLERK, "POST", "disputes", {"debtor": await company_code(), "creditor": "x", "principal_fen": -5},
               expect=400)


async def test_a_body_with_an_unknown_or_mistyped_field_is_400_and_stores_nothing(api):
    code = await company_code()
    async with in_tenant(COURT):
        before = await scoped(Dispute).count()
    for body in ({"debtor": code, "creditor": "x", "principal_fen": 100, "principal_yuan": 1},  # unknown field
                 {"debtor": code, "creditor": "x", "principal_fen": "一百"},                  # not an integer
                 {"debtor": code, "creditor": "x" * 201, "principal_fen": 100}):             # over the limit
        answer = await api.call(CLERK, "POST", "mediation/disputes", body)
        assert answer.status_code == 400, answer.text
        assert answer.json()["message"], answer.text
    async with in_tenant(COURT):
        assert await scoped(Dispute).count() == before
    d = await intake(api, code)
    answer = await api.call(MEDIATOR, "POST", f"mediation/disputes/{d['id']}/settle",
                            {"settled_fen": 100, "terms": "x", "plan": [{"due_on": "2099-01-01", "amount": 100}]})
    assert answer.status_code == 400, answer.text
    assert await steps_of(d["id"]) == ["intake"]


async def test_the_docket_comes_a_page_at_a_time_and_the_export_holds_every_dispute(app, api):
    from openpyxl import load_workbook

    code = await company_code()
    async with in_tenant(COURT):
        total = await scoped(Dispute).count()
    for _ in range(max(0, 52 - total)):
        await intake(api, code)
    async with in_tenant(COURT):
        total = await scoped(Dispute).count()
        newest = [r["id"] for r in await scoped(Dispute).select(Dispute.id).order_by(Dispute.id, ascending=False)]
    first = [d["id"] for d in await call(api, CLERK, "GET", "disputes?per_page=3")]
    second = [d["id"] for d in await call(api, CLERK, "GET", "disputes?per_page=3&page=2")]
    assert first + second == newest[:6]
    b = Browser(app)
    await b.login(f"{CLERK}@{COURT}", COURT)
    one = await b.get(f"/t/{COURT}/mediation/")
    two = await b.get(f"/t/{COURT}/mediation/?page=2")
    shown = lambda html: [int(i) for i in re.findall(r'data-dispute="(\d+)"', html)]  # noqa: E731
    assert shown(one.text) == newest[:50] and shown(two.text) == newest[50:100]
    pages = -(-total // 50)
    assert f"第 1 / {pages} 页" in one.text, one.text[-3000:]
    assert 'rel="next" href="?page=2"' in one.text
    export = await b.get(f"/t/{COURT}/mediation/export.xlsx")
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet.max_row == total + 1  # the heading and every dispute


async def test_survival_rate_on_the_dashboard_equals_an_independent_count(app, api):
    async with in_tenant(COURT):
        statuses = [r["status"] for r in await scoped(Dispute).select(Dispute.status)]
    survived, enforced = statuses.count("completed"), statuses.count("enforced")
    assert survived + enforced > 0
    b = Browser(app)
    await b.login(f"mediation_judge@{COURT}", COURT)
    home = await b.get(f"/t/{COURT}/")
    match = re.search(r'data-figure="survival_rate" data-survived="(\d+)" data-resolved="(\d+)">([\d.]+)%', home.text)
    assert match, home.text[:2000]
    assert (int(match.group(1)), int(match.group(2))) == (survived, survived + enforced)
    assert match.group(3) == f"{survived / (survived + enforced) * 100:.1f}"
    figures = await call(api, JUDGE, "GET", "figures")
    assert figures["survival_rate"] == round(survived / (survived + enforced), 4)
    assert figures["enforced"] == enforced


async def test_pages_forms_and_export(app):
    b = Browser(app)
    await b.login(f"mediation_court@{COURT}", COURT)
    listing = await b.get(f"/t/{COURT}/mediation/?status=completed")
    assert listing.status_code == 200 and "HH2022-00001" in listing.text
    code = await company_code()
    created = await b.post(f"/t/{COURT}/mediation/disputes", {"debtor": code, "creditor": "路桥农商银行",
                                                            "principal": "12345.67", "guarantors": "李四"})
    assert created.status_code == 303, created.text
    url = created.headers["location"]
    page = await b.get(url)
    assert page.status_code == 200 and "12,345.67" in page.text
    step = await b.post(f"{url}/measure", {"asset_kind": "property", "asset": "厂房一幢"}, htmx=True)
    assert step.status_code == 200 and 'id="dispute"' in step.text and "活封" in step.text
    export = await b.get(f"/t/{COURT}/mediation/export.xlsx")
    assert export.status_code == 200 and export.content[:2] == b"PK"


async def test_banks_and_companies_see_only_their_own(app, api):
    username = f"bank{uuid.uuid4().hex[:6]}@{COURT}"
    async with in_tenant(COURT):
        user_id, _ = await ensure_user(username, "另一银行", DEMO_PASSWORD)
        await ensure_membership(user_id, BANK, None, None)
    code = await company_code()
    mine = await intake(api, code, bank=username)
    theirs = await intake(api, await other_code(code))
    other = Api(api.client._transport.app, COURT)
    other.tokens[BANK] = await token_for(username, COURT)
    assert (await other.call(BANK, "GET", f"mediation/disputes/{mine['id']}")).status_code == 200
    assert (await other.call(BANK, "GET", f"mediation/disputes/{theirs['id']}")).status_code == 404
    assert (await other.call(BANK, "POST", f"mediation/disputes/{theirs['id']}/pay", {"amount_fen": 1})).status_code == 404
    listed = (await other.call(BANK, "GET", "mediation/disputes")).json()
    assert [r["id"] for r in listed] == [mine["id"]]
    district = Api(api.client._transport.app)  # a district's dispatcher sees nothing of the court's disputes
    assert (await district.call("dispatcher", "GET", "mediation/disputes")).status_code == 403
    assert (await district.call("dispatcher", "GET", f"mediation/disputes/{mine['id']}")).status_code in (403, 404)


async def test_a_tenant_without_the_plugin_sees_nothing_of_it(app):
    b = Browser(app)
    await b.login("tenant_admin@pengjie", "pengjie")
    home = await b.get("/t/pengjie/")
    assert 'data-widget="mediation"' not in home.text and "mediation/" not in home.text
    token = await token_for("tenant_admin@pengjie", "pengjie")
    walked = 0
    for route in app.app.routes:
        if "/mediation" not in route.path:
            continue
        url = re.sub(r"\{tenant:str\}", "pengjie", route.path)
        url = re.sub(r"\{\w+:int\}", "1", url).replace("{step:str}", "pay")
        for method in route.methods - {"HEAD", "OPTIONS"}:
            headers = {"Authorization": f"Bearer {token}"} if "/api/" in url else {}
            response = await (b.client.request(method, url, headers=headers) if method == "GET" or headers
                              else b.post(url, {}))
            assert response.status_code == 404, (method, url, response.status_code)
            walked += 1
    assert walked >= 8
    judge = Browser(app)
    await judge.login(f"mediation_judge@{COURT}", COURT)
    assert 'data-widget="mediation"' in (await judge.get(f"/t/{COURT}/")).text
