"""Working-day deadlines on cases with real dates, reminders, overdue flags, automatic escalation,
the "unconfirmed" marker, and notifications by e-mail through a real local SMTP server."""

import dataclasses
import socket
from datetime import date

import pytest

from core.cases import actions
from core.cases.deadlines import sweep_tenant
from core.cases.tables import Case, Event
from core.oversight import tally
from core.tables import Notification, OutboxMessage, User
from tenants.scope import scoped
from tests.cases_helpers import Api
from tests.helpers import in_tenant, process_background


async def _case(case_id):
    async with in_tenant("luqiao"):
        return await scoped(Case).objects().where(Case.id == case_id).first()


async def test_dispatch_deadline_counts_chinese_working_days_across_national_day(app, monkeypatch):
    # 2025-09-30 + 5 working days: Oct 1–8 are holidays, Saturday Oct 11 is an adjusted workday.
    monkeypatch.setattr(actions, "today", lambda: date(2025, 9, 30))
    api = Api(app)
    case = await api.submit()
    case = await api.step("dispatcher", case["id"], "dispatch")
    assert case["due_date"] == "2025-10-14" and case["due_confirmed"] is True


async def test_deadline_in_an_uncovered_year_is_computed_and_marked_unconfirmed(app, monkeypatch):
    monkeypatch.setattr(actions, "today", lambda: date(2026, 12, 28))
    api = Api(app)
    case = await api.submit()
    case = await api.step("dispatcher", case["id"], "dispatch")
    assert case["due_date"] == "2027-01-04" and case["due_confirmed"] is False
    from tests.helpers import Browser

    b = Browser(app)
    await b.login("dispatcher@luqiao", "luqiao")
    page = await b.get(f"/t/luqiao/cases/{case['id']}")
    assert "未确认" in page.text
    console = await b.get(f"/t/luqiao/cases?q={case['number'][:-2]}")  # a prefix lists; the whole number opens
    assert page.status_code == 200 and console.status_code == 200 and "未确认" in console.text


async def test_reminder_overdue_and_automatic_escalation_happen_once(app, behind_the_record):
    api = Api(app)
    case = await api.in_progress()
    async with in_tenant("luqiao"):
        await behind_the_record(case["id"], {Case.due_date: date(2025, 10, 9)})
        # The day before the due date (Oct 8 is a holiday, so the working day before is Sep 30).
        first = await sweep_tenant(on=date(2025, 9, 30))
        assert first["reminded"] >= 1
        again = await sweep_tenant(on=date(2025, 9, 30))
    row = await _case(case["id"])
    assert row.reminded_for == date(2025, 10, 9) and not row.overdue
    async with in_tenant("luqiao"):
        await sweep_tenant(on=date(2025, 10, 10))  # one working day late: overdue, not yet escalated
    row = await _case(case["id"])
    assert row.overdue and not row.escalated
    async with in_tenant("luqiao"):
        await sweep_tenant(on=date(2025, 10, 13))  # Oct 10, 11 (adjusted workday), 13: late by 3 ≥ 2
        await sweep_tenant(on=date(2025, 10, 14))
        events = await scoped(Event).select(Event.action, Event.actor_role).where(Event.case == case["id"])
    row = await _case(case["id"])
    assert row.escalated and row.escalated_to is not None
    assert [e["action"] for e in events].count("overdue") == 1
    assert [e for e in events if e["action"] == "escalate"] == [{"action": "escalate", "actor_role": "system"}]
    assert again["reminded"] == 0
    flagged = (await api.call("dispatcher", "GET", "cases?overdue=true&escalated=true&per_page=100")).json()
    assert case["id"] in [c["id"] for c in flagged["items"]]



async def test_one_sweep_handles_many_cases_at_once_and_a_second_adds_nothing(app, behind_the_record):
    """The set-based sweep over cases in different situations on Tuesday 2025-10-14 (threshold 2
    working days; Oct 11 is an adjusted workday, Oct 1–8 holidays): the right flags, exactly the
    right events per case on a chain that still verifies, the right notices, and a rerun that
    changes nothing."""
    import json

    from core.cases.access import members_with_role
    from core.cases.audit import verify_tenant
    from core.cases.tables import AuditHead
    from core.oversight.tables import CaseTally

    api = Api(app)
    soon, just_late, long_late, escalated, later, flagged_late = [
        (await api.in_progress())["id"] for _ in range(6)]
    await api.step("dispatcher", escalated, "escalate", {"reason": "涉及多个部门"})
    due = {soon: date(2025, 10, 15), just_late: date(2025, 10, 13), long_late: date(2025, 10, 9),
           escalated: date(2025, 10, 9), later: date(2025, 10, 20), flagged_late: date(2025, 10, 10)}
    async with in_tenant("luqiao"):
        for case_id, due_date in due.items():
            await behind_the_record(case_id, {Case.due_date: due_date})
        await behind_the_record(flagged_late, {Case.overdue: True})
        seq_before = (await scoped(AuditHead).select(AuditHead.last_seq).first())["last_seq"]
        outbox_before = (await OutboxMessage.select(OutboxMessage.id).order_by(
            OutboxMessage.id, ascending=False).first())["id"]
        first = await sweep_tenant(on=date(2025, 10, 14))
        seq_after = (await scoped(AuditHead).select(AuditHead.last_seq).first())["last_seq"]
        outbox_after = await OutboxMessage.count()
        again = await sweep_tenant(on=date(2025, 10, 14))
        assert (await scoped(AuditHead).select(AuditHead.last_seq).first())["last_seq"] == seq_after
        assert await OutboxMessage.count() == outbox_after
        assert (await verify_tenant()).ok
        rows = {r["id"]: r for r in await scoped(Case).select().where(Case.id.is_in(list(due)))}
        events = await scoped(Event).select(Event.case, Event.action, Event.data, Event.actor,
                                            Event.actor_role, Event.before, Event.after).where(
            (Event.seq > seq_before) & Event.case.is_in(list(due))).order_by(Event.seq)
        messages = [json.loads(m["payload"]) for m in await OutboxMessage.select(OutboxMessage.payload).where(
            OutboxMessage.id > outbox_before).order_by(OutboxMessage.id)]
        tallies = {t["case"]: t for t in await scoped(CaseTally).select().where(CaseTally.case.is_in(list(due)))}
        dispatchers = await members_with_role("dispatcher")
        leaders = await members_with_role("leader", rows[long_late]["department"])
    assert again == {"reminded": 0, "overdue": 0, "escalated": 0}
    assert first["reminded"] >= 1 and first["overdue"] >= 3 and first["escalated"] >= 2

    # Flags.
    assert rows[soon]["reminded_for"] == date(2025, 10, 15) and not rows[soon]["overdue"]
    assert rows[just_late]["overdue"] and not rows[just_late]["escalated"]
    assert rows[long_late]["overdue"] and rows[long_late]["escalated"] and leaders
    assert rows[long_late]["escalated_to"] == leaders[0]
    assert rows[escalated]["overdue"] and rows[escalated]["escalated"]
    assert not rows[later]["overdue"] and not rows[later]["escalated"] and rows[later]["reminded_for"] is None
    assert rows[flagged_late]["escalated"] and rows[flagged_late]["escalated_to"] == leaders[0]
    assert [(t["overdue"], t["escalated"]) for t in (tallies[just_late], tallies[long_late], tallies[later])] == [
        (1, 0), (1, 1), (0, 0)]

    # Events: in case order, a case's overdue event before its escalation, all by the system.
    assert [(e["case"], e["action"]) for e in events] == [
        (just_late, "overdue"), (long_late, "overdue"), (long_late, "escalate"), (escalated, "overdue"),
        (flagged_late, "escalate")]
    assert all(e["actor"] is None and e["actor_role"] == "system" and e["before"] == e["after"] == "in_progress"
               for e in events)
    reached = {"escalated_to": leaders[0], "rung": "leader", "passed_over": []}  # whom it reached, on which rung
    assert [json.loads(e["data"]) for e in events] == [
        {"due": "2025-10-13"}, {"due": "2025-10-09"}, {"automatic": True, "late_days": 4, **reached},
        {"due": "2025-10-09"}, {"automatic": True, "late_days": 3, **reached}]

    # Notices: the handler is reminded; the handler and every dispatcher hear of a case overdue;
    # the department's leaders of one escalated.
    handler = rows[soon]["handler"]
    expected = [(handler, "Case %(number)s is due tomorrow.", soon)]
    for case_id in (just_late, long_late, escalated):
        expected += [(user, "Case %(number)s is overdue.", case_id) for user in [handler, *dispatchers]]
    expected += [(user, "Case %(number)s was escalated to you.", case_id) for case_id in (long_late, flagged_late)
                 for user in leaders]
    mine = {f"cases/{case_id}": case_id for case_id in due}
    got = [(m["user_id"], m["title"], mine[m["link"]]) for m in messages if m["link"] in mine]
    assert sorted(got) == sorted(expected)
    assert all(m["kind"] == "case" and m["params"] == {"number": rows[mine[m["link"]]]["number"]}
               for m in messages if m["link"] in mine)

@pytest.fixture
def smtp_server(monkeypatch):
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    import core.config

    settings = core.config.get_settings()
    monkeypatch.setattr(core.config, "_settings", dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port))
    yield inbox
    controller.stop()


async def test_dispatch_notifies_in_app_and_by_email(app, smtp_server):
    await User.update({User.email: "handler@luqiao.example"}).where(User.username == "handler@luqiao")
    try:
        api = Api(app)
        case = await api.submit()
        await api.step("dispatcher", case["id"], "dispatch")
        await process_background()
        handler = await User.select(User.id).where(User.username == "handler@luqiao").first()
        async with in_tenant("luqiao"):
            notes = await scoped(Notification).select(Notification.title, Notification.body).where(
                Notification.user == handler["id"])
        assert any(case["number"] in n["body"] for n in notes)
        assert any("handler@luqiao.example" in rcpts and "Subject:" in body for rcpts, body in smtp_server.messages)
    finally:
        await User.update({User.email: ""}).where(User.username == "handler@luqiao")


async def test_an_email_writes_dates_as_its_readers_language_does(app, smtp_server):
    """A notice's date travels as ISO text; the e-mail writes it as the page does, per reader."""
    import email
    from email.header import decode_header, make_header

    from core.notifications import deliver_notification

    readers = {"handler@luqiao": ("zh_CN", "2026年12月8日"), "dispatcher@luqiao": ("en", "Dec 8, 2026")}
    for username, (locale, _) in readers.items():
        await User.update({User.email: f"{username}.example", User.locale: locale}).where(User.username == username)
    try:
        async with in_tenant("luqiao"):
            for username in readers:
                user = await User.select(User.id).where(User.username == username).first()
                await deliver_notification.fn(user["id"], "enforcement", "An inspection of %(company)s by "
                                              "%(department)s is announced for %(date)s.", "enforcement/",
                                              {"company": "甲公司", "department": "区市场监管局", "date": "2026-12-08"})
        for username, (_, written) in readers.items():
            sent = [email.message_from_string(body) for rcpts, body in smtp_server.messages
                    if f"{username}.example" in rcpts]
            assert sent, username
            subject = str(make_header(decode_header(sent[-1]["Subject"])))
            assert written in subject and "2026-12-08" not in subject, subject
    finally:
        for username in readers:
            await User.update({User.email: "", User.locale: "zh_CN"}).where(User.username == username)


async def test_outbox_messages_are_written_with_the_step(app):
    api = Api(app)
    before = await OutboxMessage.count()
    case = await api.submit()
    await api.step("dispatcher", case["id"], "dispatch")
    assert await OutboxMessage.count() > before


async def test_objection_only_within_one_working_day_of_dispatch(app, monkeypatch):
    api = Api(app)
    monkeypatch.setattr(actions, "today", lambda: date(2025, 9, 26))  # a Friday
    case = await api.submit()
    case = await api.step("dispatcher", case["id"], "dispatch")
    async with in_tenant("luqiao"):
        from datetime import datetime, timezone

        await scoped(Case).update({Case.dispatched_at: datetime(2025, 9, 26, 2, tzinfo=timezone.utc)}).where(
            Case.id == case["id"])
        await tally.refresh([case["id"]])
    # Sunday 2025-09-28 is an adjusted workday: one working day after Friday, still in time.
    monkeypatch.setattr(actions, "today", lambda: date(2025, 9, 28))
    await api.step("handler", case["id"], "object", {"reason": "不属于本部门"})
    await api.step("dispatcher", case["id"], "decide-objection", {"decision": "reject", "comment": "维持"})
    monkeypatch.setattr(actions, "today", lambda: date(2025, 9, 29))  # two working days: too late
    response = await api.call("handler", "POST", f"cases/{case['id']}/object", {"reason": "再议"})
    assert response.status_code == 409 and "1 个工作日" in response.json()["message"]


async def test_extension_must_be_asked_a_working_day_before_the_deadline(app, monkeypatch, behind_the_record):
    api = Api(app)
    case = await api.in_progress()
    async with in_tenant("luqiao"):
        await behind_the_record(case["id"], {Case.due_date: date(2025, 10, 9)})
    monkeypatch.setattr(actions, "today", lambda: date(2025, 10, 9))  # the due date itself
    late = await api.call("handler", "POST", f"cases/{case['id']}/extend", {"days": 2, "reason": "勘查"})
    assert late.status_code == 409 and "延期" in late.json()["message"]
    monkeypatch.setattr(actions, "today", lambda: date(2025, 9, 30))  # the working day before (holidays between)
    await api.step("handler", case["id"], "extend", {"days": 2, "reason": "勘查"})
    case = await api.step("leader", case["id"], "decide-extension", {"decision": "approve"})
    assert case["due_date"] == "2025-10-11"  # Oct 10, then Saturday Oct 11 (adjusted workday)


async def test_the_scheduled_sweep_writes_in_steps_with_the_same_record(app, behind_the_record, monkeypatch):
    """As the scheduler runs it (the tenant named, no transaction: `in_steps`), a sweep writes a
    few cases per transaction; the flags, the events in case order and the chain are as one
    transaction's, and a rerun adds nothing."""
    from core.cases import deadlines
    from core.cases.audit import verify_tenant
    from core.cases.tables import AuditHead
    from core.schedule import JOBS
    from tenants.registry import load_tenant
    from tenants.scope import tenant_named

    assert next(job for job in JOBS if job.name == "case_deadlines").in_steps
    monkeypatch.setattr(deadlines, "STEP", 2)
    api = Api(app)
    ids = [(await api.in_progress())["id"] for _ in range(5)]
    due = dict(zip(ids, [date(2025, 10, 15), date(2025, 10, 13), date(2025, 10, 9), date(2025, 10, 9),
                         date(2025, 10, 20)]))
    async with in_tenant("luqiao"):
        for case_id, due_date in due.items():
            await behind_the_record(case_id, {Case.due_date: due_date})
        seq_before = (await scoped(AuditHead).select(AuditHead.last_seq).first())["last_seq"]
    tenant = await load_tenant("luqiao")
    with tenant_named(tenant):
        first = await sweep_tenant(on=date(2025, 10, 14))
        again = await sweep_tenant(on=date(2025, 10, 14))
    async with in_tenant("luqiao"):
        assert (await verify_tenant()).ok
        events = await scoped(Event).select(Event.case, Event.action).where(
            (Event.seq > seq_before) & Event.case.is_in(ids)).order_by(Event.seq)
        rows = {r["id"]: r for r in await scoped(Case).select().where(Case.id.is_in(ids))}
    assert first["reminded"] >= 1 and first["overdue"] >= 3 and first["escalated"] >= 2
    assert again == {"reminded": 0, "overdue": 0, "escalated": 0}
    assert [(e["case"], e["action"]) for e in events] == [
        (ids[1], "overdue"), (ids[2], "overdue"), (ids[2], "escalate"), (ids[3], "overdue"), (ids[3], "escalate")]
    assert rows[ids[0]]["reminded_for"] == date(2025, 10, 15) and rows[ids[3]]["escalated"]
    assert not rows[ids[4]]["overdue"] and not rows[ids[1]]["escalated"]
