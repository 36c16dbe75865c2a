"""The tamper-evident record: `qinqing audit verify` passes on the demo data and names the
tenant and the first broken event after an edit, an insertion or a deletion."""

import subprocess
import sys

import pytest

from core.cases.tables import Event
from tenants.scope import scoped
from tests.conftest import ROOT
from tests.helpers import in_tenant


def verify(*args):
    return subprocess.run([sys.executable, "-m", "cli", "audit", "verify", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


DEMO_TENANTS = ("luqiao", "pengjie", "jiaojiang", "luqiao-court", "taizhou")


def test_verify_passes_on_the_demo_data():
    """Each demo tenant (other tests' hand-built towns hold rows made behind the record on purpose)."""
    for slug in DEMO_TENANTS:
        done = verify("--tenant", slug)
        assert done.returncode == 0 and f"{slug}: ok" in done.stdout, done.stderr


async def test_an_edited_event_is_found():
    async with in_tenant("pengjie"):
        row = await scoped(Event).select().where(Event.seq == 5).first()
        await scoped(Event).update({Event.reason: "篡改后的理由"}).where(Event.id == row["id"])
    try:
        done = verify("--tenant", "pengjie")
        assert done.returncode == 1
        assert "pengjie" in done.stderr and "event 5 was altered" in done.stderr
        assert verify("--tenant", "jiaojiang").returncode == 0
    finally:
        async with in_tenant("pengjie"):
            await scoped(Event).update({Event.reason: row["reason"]}).where(Event.id == row["id"])
    assert verify("--tenant", "pengjie").returncode == 0


async def test_a_deleted_event_is_found():
    async with in_tenant("pengjie"):
        row = await scoped(Event).select().where(Event.seq == 7).first()
        await scoped(Event).delete().where(Event.id == row["id"])
    try:
        done = verify("--tenant", "pengjie")
        assert done.returncode == 1 and "event 7 is missing" in done.stderr
    finally:
        async with in_tenant("pengjie"):
            restored = {k: v for k, v in row.items() if k not in ("id", "tenant_id")}
            await scoped(Event).insert(restored)
    assert verify("--tenant", "pengjie").returncode == 0


async def test_a_second_event_with_the_same_number_is_refused_by_the_database():
    import pytest

    async with in_tenant("pengjie"):
        row = await scoped(Event).select().where(Event.seq == 3).first()
    with pytest.raises(Exception):
        async with in_tenant("pengjie"):
            await scoped(Event).insert({k: v for k, v in row.items() if k not in ("id", "tenant_id")})


async def test_an_inserted_event_is_found():
    from core.cases.audit import event_hash

    async with in_tenant("pengjie") as tenant:
        last = await scoped(Event).select().order_by(Event.seq, ascending=False).first()
        forged = {k: v for k, v in last.items() if k not in ("id", "tenant_id")}
        forged.update(seq=last["seq"] + 1, reason="伪造", prev_hash=last["hash"])
        # A forger who knows the hash rule computes a valid link; the chain's head still gives it away.
        fields = {k: forged[k] for k in ("case", "actor", "actor_role", "action", "reason", "before", "after", "data")}
        forged["hash"] = event_hash(tenant.id, forged["seq"], fields, forged["created_at"], last["hash"])
        await scoped(Event).insert(forged)
    try:
        done = verify("--tenant", "pengjie")
        assert done.returncode == 1 and f"event {last['seq'] + 1} was inserted" in done.stderr
    finally:
        async with in_tenant("pengjie"):
            await scoped(Event).delete().where(Event.reason == "伪造")
    assert verify("--tenant", "pengjie").returncode == 0


async def test_the_deleted_last_event_is_found():
    async with in_tenant("pengjie"):
        last = await scoped(Event).select().order_by(Event.seq, ascending=False).first()
        await scoped(Event).delete().where(Event.id == last["id"])
    try:
        done = verify("--tenant", "pengjie")
        assert done.returncode == 1 and f"event {last['seq']} is missing" in done.stderr
    finally:
        async with in_tenant("pengjie"):
            await scoped(Event).insert({k: v for k, v in last.items() if k not in ("id", "tenant_id")})


# -- the record is the truth: each case's events replayed against its row ------------------------

class RolledBack(Exception):
    pass


def _broken_line(done) -> str:
    return next((line for line in done.stderr.splitlines() if "BROKEN" in line), done.stderr)


async def _replay_problem() -> str:
    from core.cases.replay import check_cases

    _, mismatch = await check_cases()
    return str(mismatch) if mismatch else ""


async def test_every_case_of_the_demo_replays_to_its_row():
    for slug in ("luqiao", "pengjie", "jiaojiang"):
        async with in_tenant(slug):
            assert await _replay_problem() == "", slug
        done = verify("--tenant", slug)
        assert done.returncode == 0 and "cases replayed" in done.stdout, done.stderr


async def test_a_case_row_edited_behind_the_records_back_is_named():
    """Status, department and resolution changed on the row alone: verify names the case and
    the field (the record's value against the row's) and exits non-zero through the real CLI."""
    from core.cases import states as S
    from core.cases.tables import Case
    from core.tables import Department

    async with in_tenant("pengjie"):
        case = await scoped(Case).select().where(Case.status == S.CLOSED).where(
            Case.resolution != "").order_by(Case.id).first()
        other = await scoped(Department).select().where(Department.id != case["department"]).first()
    edits = [({Case.status: S.IN_PROGRESS}, "status", "'closed'"),
             ({Case.department: other["id"]}, "department", other["code"]),
             ({Case.resolution: "悄悄改过的答复"}, "resolution", "悄悄改过的答复")]
    for values, field, shown in edits:
        async with in_tenant("pengjie"):
            await scoped(Case).update(values).where(Case.id == case["id"])
        try:
            done = verify("--tenant", "pengjie")
            line = _broken_line(done)
            assert done.returncode == 1, done.stdout
            assert f"case {case['number']}: {field} —" in line and shown in line, line
        finally:
            async with in_tenant("pengjie"):
                await scoped(Case).update({Case.status: case["status"], Case.department: case["department"],
                                           Case.resolution: case["resolution"]}).where(Case.id == case["id"])
    assert verify("--tenant", "pengjie").returncode == 0


async def test_a_pending_refusal_without_its_status_is_caught():
    from core.cases import states as S
    from core.cases.tables import Case, Refusal

    async with in_tenant("pengjie"):
        case = await scoped(Case).select().where((Case.status == S.CLOSED) & Case.handler.is_not_null()).order_by(
            Case.id).first()
        refusal = await scoped(Refusal).add(case=case["id"], filed_by=case["handler"], reason="无记录", basis="无",
                                            stage="section_head", status="pending")
        try:
            problem = await _replay_problem()
            assert f"case {case['number']}: pending refusals — the record says 0, the row has 1" == problem
        finally:
            await scoped(Refusal).delete().where(Refusal.id == refusal.id)
        assert await _replay_problem() == ""


async def test_steps_and_the_deadline_sweep_replay_to_the_row(app):
    """Cases moved by every kind of writer — the steps through the API, the hourly sweep's
    overdue flags and automatic escalations — still replay to their rows."""
    from datetime import timedelta

    from core.cases.deadlines import sweep_tenant
    from core.clock import today
    from tests.cases_helpers import Api

    api = Api(app, "luqiao")
    try:
        reopened = await api.in_progress()
        await api.step("handler", reopened["id"], "resolve", {"reply": "已处理"})
        await api.step("company", reopened["id"], "rate", {"rating": "unsatisfied", "comment": "没解决"})
        await api.step("company", reopened["id"], "reopen", {"reason": "问题依旧"})
        sent_back = await api.refusal_pending()
        await api.step("section_head", sent_back["id"], "send-back", {"comment": "理由不足"})
        await api.step("dispatcher", sent_back["id"], "escalate", {"reason": "企业多次催办"})
        overturned = await api.under_review(hearing=True)
        await api.step("reviewer", overturned["id"], "rule", {"verdict": "overturned", "reason": "部门应想办法",
                                                              "record": "问答"})
        waiting = await api.submit()
        await api.step("dispatcher", waiting["id"], "dispatch")
        async with in_tenant("luqiao"):
            assert await _replay_problem() == ""
        with pytest.raises(RolledBack):  # the sweep's writes are undone: later tests see the demo as it was
            async with in_tenant("luqiao"):
                swept = await sweep_tenant(on=today() + timedelta(days=60))  # every open case late
                assert swept["overdue"] and swept["escalated"]
                assert await _replay_problem() == ""
                raise RolledBack
    finally:
        await api.client.aclose()
    assert verify("--tenant", "luqiao").returncode == 0
