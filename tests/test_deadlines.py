"""Working-day deadlines on cases with real dates, reminders, overdue flags, automatic escalation,
the "unconfirmed" marker, and notifications by e-mail through a real local SMTP server."""

import dataclasses
import socket
from datetime import date

import pytest

from core.cases import lifecycle
from core.cases.deadlines import sweep_tenant
from core.cases.tables import Case, Event
from core.oversight import tally
from core.tables import Notification, OutboxMessage, User
from tenants.scope import scoped
from tests.cases_helpers import Api
from tests.helpers import in_tenant
from tests.helpers import process_background


async def _case(case_id):
    async with in_tenant("luqiao"):
        return await scoped(Case).objects().where(Case.id == case_id).first()


async def test_dispatch_deadline_counts_chinese_working_days_across_national_day(app, monkeypatch):
    # 2025-09-30 + 5 working days: Oct 1–8 are holidays, Saturday Oct 11 is an adjusted workday.
    monkeypatch.setattr(lifecycle, "today", lambda: date(2025, 9, 30))
    api = Api(app)
    case = await api.submit()
    case = await api.step("dispatcher", case["id"], "dispatch")
    assert case["due_date"] == "2025-10-14" and case["due_confirmed"] is True


async def test_deadline_in_an_uncovered_year_is_computed_and_marked_unconfirmed(app, monkeypatch):
    monkeypatch.setattr(lifecycle, "today", lambda: date(2026, 12, 28))
    api = Api(app)
    case = await api.submit()
    case = await api.step("dispatcher", case["id"], "dispatch")
    assert case["due_date"] == "2027-01-04" and case["due_confirmed"] is False
    from tests.helpers import Browser

    b = Browser(app)
    await b.login("dispatcher@luqiao", "luqiao")
    page = await b.get(f"/t/luqiao/cases/{case['id']}")
    assert "未确认" in page.text
    console = await b.get(f"/t/luqiao/cases?q={case['number']}")
    assert page.status_code == 200 and console.status_code == 200


async def test_reminder_overdue_and_automatic_escalation_happen_once(app):
    api = Api(app)
    case = await api.in_progress()
    async with in_tenant("luqiao"):
        await scoped(Case).update({Case.due_date: date(2025, 10, 9)}).where(Case.id == case["id"])
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


async def test_outbox_messages_are_written_with_the_step(app):
    api = Api(app)
    before = await OutboxMessage.count()
    case = await api.submit()
    await api.step("dispatcher", case["id"], "dispatch")
    assert await OutboxMessage.count() > before


async def test_objection_only_within_one_working_day_of_dispatch(app, monkeypatch):
    api = Api(app)
    monkeypatch.setattr(lifecycle, "today", lambda: date(2025, 9, 26))  # a Friday
    case = await api.submit()
    case = await api.step("dispatcher", case["id"], "dispatch")
    async with in_tenant("luqiao"):
        from datetime import datetime, timezone

        await scoped(Case).update({Case.dispatched_at: datetime(2025, 9, 26, 2, tzinfo=timezone.utc)}).where(
            Case.id == case["id"])
        await tally.refresh([case["id"]])
    # Sunday 2025-09-28 is an adjusted workday: one working day after Friday, still in time.
    monkeypatch.setattr(lifecycle, "today", lambda: date(2025, 9, 28))
    await api.step("handler", case["id"], "object", {"reason": "不属于本部门"})
    await api.step("dispatcher", case["id"], "decide-objection", {"decision": "reject", "comment": "维持"})
    monkeypatch.setattr(lifecycle, "today", lambda: date(2025, 9, 29))  # two working days: too late
    response = await api.call("handler", "POST", f"cases/{case['id']}/object", {"reason": "再议"})
    assert response.status_code == 409 and "1 个工作日" in response.json()["message"]


async def test_extension_must_be_asked_a_working_day_before_the_deadline(app, monkeypatch):
    api = Api(app)
    case = await api.in_progress()
    async with in_tenant("luqiao"):
        await scoped(Case).update({Case.due_date: date(2025, 10, 9)}).where(Case.id == case["id"])
    monkeypatch.setattr(lifecycle, "today", lambda: date(2025, 10, 9))  # the due date itself
    late = await api.call("handler", "POST", f"cases/{case['id']}/extend", {"days": 2, "reason": "勘查"})
    assert late.status_code == 409 and "延期" in late.json()["message"]
    monkeypatch.setattr(lifecycle, "today", lambda: date(2025, 9, 30))  # the working day before (holidays between)
    await api.step("handler", case["id"], "extend", {"days": 2, "reason": "勘查"})
    case = await api.step("leader", case["id"], "decide-extension", {"decision": "approve"})
    assert case["due_date"] == "2025-10-11"  # Oct 10, then Saturday Oct 11 (adjusted workday)
