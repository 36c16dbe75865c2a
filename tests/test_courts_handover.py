"""What a district hands its court (移送法院调解), beyond the referral's fields: the case page's link
to the referral form (only where a referral can be made), the attachments the referrer ticks
(carried through the outbox, hashed, kept by the court for its staff only), and the disputes that
lived in the district before courts were tenants, moved to the court by
``qinqing mediation move-to-court``."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import date
from types import SimpleNamespace

import pytest

from core.cases.tables import Case, Company, Event
from core.tables import Membership, OutboxMessage, User
from plugins.mediation.moving import move_to_court
from plugins.mediation.tables import (
    Agreement,
    Dispute,
    DisputeEvent,
    DisputeFile,
    Instalment,
    LinkMessage,
    Party,
    Payment,
    Referral,
    Session,
)
from tenants.scope import scoped
from tests.cases_helpers import Api
from tests.helpers import Browser, in_tenant, process_background
from tests.test_courts import COURT, call, chain, court_dispute, messages_out, refer

REFER = 'data-module-action="mediation.refer"'


def pdf(n: int) -> bytes:
    return f"%PDF-1.4\n% file {n}\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".encode()


@pytest.fixture
async def district(app):
    return Api(app, "luqiao")


@pytest.fixture
async def court(app):
    return Api(app, COURT)


# -- the case page's link to the referral form ---------------------------------------------------------

async def test_the_case_page_offers_a_referral_only_where_one_can_be_made(app):
    from core.tenant_links import declare, end

    jiaojiang = Api(app, "jiaojiang")
    case = await jiaojiang.submit(title="贷款到期无力偿还", description="请求法院调解")
    dispatcher = Browser(app)
    await dispatcher.login("dispatcher@jiaojiang", "jiaojiang")
    page = await dispatcher.get(f"/t/jiaojiang/cases/{case['id']}")
    assert REFER in page.text and f'href="/t/jiaojiang/mediation/refer?case={case["id"]}"' in page.text
    form = await dispatcher.get(f"/t/jiaojiang/mediation/refer?case={case['id']}")
    assert "data-referral-form" in form.text and f'data-referred-case="{case["id"]}"' in form.text
    assert f'name="case" value="{case["id"]}"' in form.text
    # a case naming no company: nothing to refer yet
    anonymous = await jiaojiang.anonymous()
    assert REFER not in (await dispatcher.get(f"/t/jiaojiang/cases/{anonymous['id']}")).text
    # the company itself does not refer its case
    company = Browser(app)
    await company.login("company@jiaojiang", "jiaojiang")
    own = await company.get(f"/t/jiaojiang/cases/{case['id']}")
    assert own.status_code == 200 and REFER not in own.text
    # no active link, no link on the page
    async with in_tenant(COURT) as tenant:
        assert await end(tenant.id, "jiaojiang")
    try:
        assert REFER not in (await dispatcher.get(f"/t/jiaojiang/cases/{case['id']}")).text
    finally:
        async with in_tenant(COURT) as tenant:
            await declare(tenant.id, "jiaojiang")
    assert REFER in (await dispatcher.get(f"/t/jiaojiang/cases/{case['id']}")).text


# -- attachments the referrer chose -----------------------------------------------------------------------

async def _case_with_files(district: Api, n: int = 3) -> tuple[dict, list[dict]]:
    from core.cases.attachments import store

    case = await district.submit(title="贷款到期，附合同与流水", description="请求调解")
    async with in_tenant("luqiao"):
        owner = await User.select(User.id).where(User.username == "company@luqiao").first()
        row = await scoped(Case).objects().where(Case.id == case["id"]).first()
        kept = []
        for i in range(n):
            content = pdf(i) + case["number"].encode()  # unique per test run
            a = await store(row, SimpleNamespace(id=owner["id"], roles={"company"}), f"合同{i}.pdf", content)
            kept.append({"id": a.id, "sha256": a.sha256, "content": content, "filename": a.filename})
    return case, kept


async def test_the_chosen_attachments_and_only_those_reach_the_court(app, district, court):
    case, files = await _case_with_files(district)
    chosen, left = files[:2], files[2]
    b = Browser(app)
    await b.login("dispatcher@luqiao", "luqiao")
    form = await b.get(f"/t/luqiao/mediation/refer?case={case['id']}")
    assert all(f'name="attachments" value="{f["id"]}"' in form.text for f in files)
    sent = await b.post("/t/luqiao/mediation/referrals", {
        "case": str(case["id"]), "court": COURT, "creditor": "台州银行路桥支行", "principal": "200000",
        "summary": "合同与流水见附件", "attachments": [str(f["id"]) for f in chosen]})
    assert sent.status_code == 303, sent.text
    referral_id = int(sent.headers["location"].rsplit("/", 1)[1])
    mine = await call(district, "dispatcher", "GET", f"referrals/{referral_id}")
    assert sorted(f["sha256"] for f in mine["files"]) == sorted(f["sha256"] for f in chosen)
    await process_background()
    d = await court_dispute(court, mine["key"])
    assert sorted(f["sha256"] for f in d["files"]) == sorted(f["sha256"] for f in chosen)
    # a court clerk downloads each, byte for byte
    clerk = Browser(app)
    await clerk.login(f"mediation_court@{COURT}", COURT)
    page = await clerk.get(f"/t/{COURT}/mediation/disputes/{d['id']}")
    by_hash = {f["sha256"]: f for f in d["files"]}
    for f in chosen:
        url = f"/t/{COURT}/mediation/disputes/{d['id']}/files/{by_hash[f['sha256']]['id']}"
        assert f'href="{url}"' in page.text
        got = await clerk.get(url)
        assert got.status_code == 200 and got.content == f["content"]
        assert hashlib.sha256(got.content).hexdigest() == f["sha256"]
        # the district cannot read the court's copy: not on the court's URL, not on its own
        other = await b.get(url, follow_redirects=False)
        assert other.status_code in (302, 303, 401, 403, 404) and other.content != f["content"]
        assert (await b.get(f"/t/luqiao/mediation/disputes/{d['id']}/files/{by_hash[f['sha256']]['id']}")
                ).status_code in (403, 404)
    file_id = d["files"][0]["id"]
    bank = Browser(app)  # a bank (an outside user of the court) is not court staff
    await bank.login(f"mediation_bank@{COURT}", COURT)
    assert (await bank.get(f"/t/{COURT}/mediation/disputes/{d['id']}/files/{file_id}")).status_code in (403, 404)
    assert (await clerk.get(f"/t/{COURT}/mediation/disputes/{d['id'] + 100000}/files/{file_id}")).status_code == 404
    # the one not chosen never reached the court's data, nor any message addressed to it
    async with in_tenant(COURT) as tenant:
        kept = {r["sha256"] for r in await scoped(DisputeFile).select(DisputeFile.sha256)}
        bodies = " ".join(r["body"] for r in await scoped(LinkMessage).select(LinkMessage.body))
    assert left["sha256"] not in kept and left["sha256"] not in bodies and chosen[0]["sha256"] in kept
    payloads = " ".join(r["payload"] for r in await OutboxMessage.select(OutboxMessage.payload).where(
        OutboxMessage.tenant_id == tenant.id))
    assert left["sha256"] not in payloads and base64.b64encode(left["content"]).decode() not in payloads
    # each file crossed as a message of its own, on both tenants' hash-chained records
    sent = await messages_out("luqiao", mine["key"])
    assert len([k for k in sent if k.startswith("attachment:")]) == 2 and len(sent) == 3
    for key in sent:
        assert await chain("luqiao", key) == ["mediation_sent"] and await chain(COURT, key) == ["mediation_received"]
    # the content crossed in the message only: neither side's message rows keep it
    async with in_tenant("luqiao"):
        out = " ".join(r["body"] for r in await scoped(LinkMessage).select(LinkMessage.body).where(
            LinkMessage.referral_key == mine["key"]))
    assert base64.b64encode(chosen[0]["content"]).decode() not in out + bodies


async def test_a_file_not_of_the_case_is_refused_and_nothing_is_sent(district):
    case, files = await _case_with_files(district, n=1)
    other, _ = await _case_with_files(district, n=1)
    async with in_tenant("luqiao"):
        before = await scoped(Referral).count()
    await district.token("dispatcher")  # a first token is a message of its own (a notice): taken before counting
    outbox = await OutboxMessage.count()
    for bad in ([files[0]["id"] + 100000], [_[0]["id"]]):  # no such file; another case's file
        refused = await refer(district, case["id"], expect=400, attachments=bad)
        assert refused["code"] == "invalid" and "attachments" in refused["message"], refused
    async with in_tenant("luqiao"):
        assert await scoped(Referral).count() == before
    assert await OutboxMessage.count() == outbox


async def test_a_file_delivered_twice_is_kept_once_and_a_damaged_one_not_at_all(district, court, monkeypatch):
    from plugins.mediation import files as court_files
    from plugins.mediation.referrals import receive

    case, files = await _case_with_files(district, n=1)
    referral = await refer(district, case["id"], attachments=[files[0]["id"]])
    await process_background()
    body = {"filename": "x.pdf", "kind": "pdf", "mime": "application/pdf", "size": len(files[0]["content"]),
            "sha256": files[0]["sha256"], "content": base64.b64encode(files[0]["content"]).decode()}
    async with in_tenant(COURT):
        before = await scoped(DisputeFile).count().where(DisputeFile.referral_key == referral["key"])
        await receive.fn("twice-" + referral["key"], "luqiao", "路桥区", "attachment", referral["key"], body)
        await receive.fn("twice-" + referral["key"], "luqiao", "路桥区", "attachment", referral["key"], body)
        damaged = {**body, "sha256": "0" * 64}
        await receive.fn("damaged-" + referral["key"], "luqiao", "路桥区", "attachment", referral["key"], damaged)
        # past the attachment limit (the core's, unchanged): not kept either
        monkeypatch.setattr(court_files, "MAX_ATTACHMENT_BYTES", len(files[0]["content"]) - 1)
        await receive.fn("big-" + referral["key"], "luqiao", "路桥区", "attachment", referral["key"], body)
        assert await scoped(DisputeFile).count().where(DisputeFile.referral_key == referral["key"]) == before + 1
    assert before == 1


# -- moving the district's old disputes to the court --------------------------------------------------------

async def _old_dispute(case_id: int | None, status: str = "repaying") -> dict:
    """A dispute as the district kept it before courts were tenants: an old four-digit number, a
    judge who is now a court account, a mediator who never was, a plan and a payment."""
    async with in_tenant("luqiao"):
        company = await scoped(Company).select(Company.id, Company.name, Company.credit_code).order_by(
            Company.id).first()
        judge = await User.select(User.id).where(User.username == f"mediation_judge@{COURT}").first()
        stranger = await User.select(User.id).where(User.username == "dispatcher@luqiao").first()
        number = f"HH2025-{uuid.uuid4().hex[:6]}"  # the old sequence's number, distinct across runs
        d = await scoped(Dispute).add(number=number, title=f"老案 {number}", debtor=company["id"], case=case_id,
                                      principal_fen=100_000_00, settled_fen=100_000_00, court="路桥法院",
                                      judge=judge["id"], mediator=stranger["id"], status=status,
                                      opened_on=date(2025, 3, 1))
        await scoped(Party).add(dispute=d.id, role="creditor", name="农商银行")
        await scoped(Party).add(dispute=d.id, role="debtor", name=company["name"], company=company["id"])
        await scoped(Session).add(dispute=d.id, place="路桥区调解室", outcome="agreed")
        await scoped(Agreement).add(dispute=d.id, terms="两期", settled_fen=100_000_00)
        first = await scoped(Instalment).add(dispute=d.id, seq=1, due_on=date(2025, 6, 30),
                                             amount_fen=50_000_00, paid_fen=50_000_00, status="paid")
        await scoped(Instalment).add(dispute=d.id, seq=2, due_on=date(2027, 6, 30),
                                     amount_fen=50_000_00)
        await scoped(Payment).add(dispute=d.id, instalment=first.id, amount_fen=50_000_00, recorded_by=stranger["id"])
        for step in ("intake", "session", "settle", "pay"):
            await scoped(DisputeEvent).add(dispute=d.id, step=step, actor=stranger["id"],
                                           data=json.dumps({"dispute": d.id, "number": number}))
    return {"id": d.id, "number": number, "judge": judge["id"], "company": company}


async def _district_disputes() -> int:
    async with in_tenant("luqiao"):
        return await scoped(Dispute).count()


async def test_old_disputes_move_to_the_court_once_with_everything_and_the_case_keeps_hearing(district, court):
    case = await district.submit(title="旧的调解案件", description="区里原先的法院调解")
    linked = await _old_dispute(case["id"], status="mediating")
    plain = await _old_dispute(None)
    assert await _district_disputes() >= 2
    async with in_tenant(COURT):
        court_before = await scoped(Dispute).count()
    # the dry run lists them and changes nothing
    preview = await move_to_court("luqiao", COURT, dry_run=True)
    assert {linked["number"], plain["number"]} <= {r["number"] for r in preview}
    row = next(r for r in preview if r["number"] == plain["number"])
    assert (row["sessions"], row["instalments"], row["payments"], row["events"]) == (1, 2, 1, 4)
    async with in_tenant(COURT):
        assert await scoped(Dispute).count() == court_before
    assert await _district_disputes() >= 2
    moved = await move_to_court("luqiao", COURT)
    by_old = {r["former_number"]: r for r in moved}
    assert {linked["number"], plain["number"]} <= set(by_old)
    assert await _district_disputes() == 0  # the district's copies are gone
    async with in_tenant("luqiao"):
        assert not await scoped(Session).count() and not await scoped(Payment).count()
    for old in (linked, plain):
        new = by_old[old["number"]]
        assert new["number"].startswith("HH2025-") and len(new["number"]) == len("HH2025-00001")
        async with in_tenant(COURT):
            d = await scoped(Dispute).select().where(Dispute.number == new["number"]).first()
            assert d["former_number"] == old["number"] and d["referred_from"] == "luqiao" and d["case"] is None
            assert d["judge"] == old["judge"] and d["mediator"] is None  # a court account stays; a district one not
            of = lambda t: scoped(t).select().where(t.dispute == d["id"])  # noqa: E731
            assert len(await of(Session)) == 1 and len(await of(Agreement)) == 1
            instalments, payments = await of(Instalment), await of(Payment)
            assert [i["seq"] for i in sorted(instalments, key=lambda i: i["seq"])] == [1, 2]
            assert payments[0]["instalment"] == next(i["id"] for i in instalments if i["seq"] == 1)
            steps = [e["step"] for e in await of(DisputeEvent).order_by(DisputeEvent.id)]
            assert steps == ["intake", "session", "settle", "pay", "moved"]
            debtor = await scoped(Company).select(Company.credit_code).where(Company.id == d["debtor"]).first()
            assert debtor["credit_code"] == old["company"]["credit_code"]
            moved_in = [json.loads(r["data"]) for r in await scoped(Event).select(Event.data).where(
                Event.action == "mediation_moved_in")]
            assert {"from": "luqiao", "former_number": old["number"], "number": new["number"]} in moved_in
    # running it again moves nothing
    assert await move_to_court("luqiao", COURT) == []
    # the case's dispute is now a referral: the court's next milestone reaches the case's timeline
    key = by_old[linked["number"]]["referral"]
    assert key and not by_old[plain["number"]]["referral"]
    d = await court_dispute(court, key)
    mediator = f"mediation_mediator@{COURT}"
    async with in_tenant(COURT):
        uid = (await User.select(User.id).where(User.username == mediator).first())["id"]
        assert await scoped(Membership).exists().where(Membership.user == uid)
    await call(court, "mediation_mediator", "POST", f"disputes/{d['id']}/session", {"place": "法院调解室"})
    await process_background()
    referrals = await call(district, "dispatcher", "GET", "referrals")
    mine = next(r for r in referrals if r["key"] == key)
    assert mine["dispute_number"] == d["number"] and mine["status"] == "session_held"
    timeline = [e["action"] for e in (await district.get("dispatcher", case["id"]))["timeline"]]
    assert "mediation_moved" in timeline and "mediation_session_held" in timeline


async def test_moving_needs_an_active_link_and_a_court(district):
    from core.errors import UserError

    await _old_dispute(None)
    for args in (("luqiao", "jiaojiang"), ("luqiao-court", COURT), ("nowhere", COURT)):
        with pytest.raises(UserError):
            await move_to_court(*args)
    assert await _district_disputes() >= 1
    await move_to_court("luqiao", COURT)  # leave the district as the demo has it: no dispute of its own
    assert await _district_disputes() == 0


def test_qinqing_mediation_move_to_court_is_a_command_of_the_cli():
    import subprocess
    import sys

    from tests.conftest import ROOT

    done = subprocess.run([sys.executable, "-m", "cli", "mediation", "move-to-court", "--from", "luqiao",
                           "--court", COURT, "--dry-run"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"luqiao → {COURT}: would move ")
    refused = subprocess.run([sys.executable, "-m", "cli", "mediation", "move-to-court", "--from", "luqiao",
                              "--court", "jiaojiang"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "jiaojiang" in refused.stderr


async def test_two_moves_at_once_move_each_dispute_once(district):
    import asyncio

    olds = [await _old_dispute(None) for _ in range(3)]
    first, second = await asyncio.gather(move_to_court("luqiao", COURT), move_to_court("luqiao", COURT))
    moved = [r["former_number"] for r in first + second]
    assert sorted(moved) == sorted(o["number"] for o in olds)  # each once, by one run or the other
    async with in_tenant(COURT):
        for old in olds:
            assert await scoped(Dispute).count().where(Dispute.former_number == old["number"]) == 1
    assert await _district_disputes() == 0
