"""Requests through the assistant (诉求代办) and visits (走访): a company (or its liaison) tells
its assistant what it needs, or the assistant records it from a call or visit; the assistant files
it as a core case on the company's behalf (``core.sdk.submit_case``: the case shows "filed
by assistant X for company Y") or answers it directly.  Visits and calls carry follow-ups; an
overdue follow-up reminds the assistant once (a daily job, idempotent)."""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated

import msgspec

from core.sdk import N_, Case, Company, UserError, notify, now, parse, scoped, submit_case, today
from plugins.liaison.access import assistant_of, require_assistant_of, visible_company
from plugins.liaison.tables import FollowUp, Need, Visit

log = logging.getLogger("qinqing.liaison")
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text = Annotated[str, msgspec.Meta(max_length=5000)]
Short = Annotated[str, msgspec.Meta(max_length=300)]
NEW_NEED = N_("A company told you what it needs: %(need)s")
FOLLOW_UP_OVERDUE = N_("A visit follow-up is overdue: %(text)s")


class NeedForm(msgspec.Struct):
    title: Title
    description: Text = ""
    channel: str = "form"


class VisitForm(msgspec.Struct):
    visited_on: date
    kind: str = "visit"
    people: Short = ""
    topics: Text = ""
    follow_up: Text = ""
    follow_up_due: date | None = None


# -- needs ---------------------------------------------------------------------------------------

async def record_need(user, company_id: int, data: dict) -> Need:
    """The company (its users) or its assistant records a need."""
    company = await visible_company(user, company_id)
    form = parse(NeedForm, data)
    own_assistant = await assistant_of(company.id)
    if user.has_role("company") and not user.can("liaison.assist"):
        channel = "form"
    else:
        await require_assistant_of(user, company.id)
        channel = form.channel if form.channel in ("form", "call", "visit") else "call"
    need = await scoped(Need).add(company=company.id, assistant=own_assistant, raised_by=user.id, channel=channel,
                                  title=form.title, description=form.description, status="open",
                                  created_at=now())
    if own_assistant and own_assistant != user.id:
        link = f"liaison/companies/{company.id}"
        await notify(own_assistant, "liaison", NEW_NEED, link=link, need=form.title)
    return need


async def get_need(user, need_id: int) -> Need:
    need = await scoped(Need).objects().where(Need.id == need_id).first()
    if need is None:
        raise UserError(404, "Not found.")
    await visible_company(user, need.company)  # 404 for someone who may not see the company
    return need


async def file_need(user, need_id: int, category: str) -> Case:
    """The assistant turns the need into a core case on the company's behalf."""
    need = await get_need(user, need_id)
    await require_assistant_of(user, need.company)
    if need.status != "open":
        raise UserError(409, "This need has already been handled.", code="need_closed")
    company = await scoped(Company).objects().where(Company.id == need.company).first()
    case = await submit_case(user, {"category": category, "title": need.title,
                               "description": need.description or need.title, "company": company.credit_code})
    need.case, need.status, need.closed_at = case.id, "filed", now()
    await need.save([Need.case, Need.status, Need.closed_at])
    return case


async def answer_need(user, need_id: int, answer: str) -> Need:
    need = await get_need(user, need_id)
    await require_assistant_of(user, need.company)
    answer = (answer or "").strip()
    if not answer or len(answer) > 5000:
        raise UserError(400, "Write the answer (at most 5,000 characters).", code="answer_required")
    if need.status != "open":
        raise UserError(409, "This need has already been handled.", code="need_closed")
    need.answer, need.status, need.closed_at = answer, "answered", now()
    await need.save([Need.answer, Need.status, Need.closed_at])
    return need


# -- visits and follow-ups -------------------------------------------------------------------------

async def log_visit(user, company_id: int, data: dict) -> Visit:
    await visible_company(user, company_id)
    await require_assistant_of(user, company_id)
    form = parse(VisitForm, data)
    if form.kind not in ("visit", "call"):
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field="kind")
    if form.visited_on > today():
        raise UserError(400, "A visit cannot be logged for a future date.", code="future_visit")
    visit = await scoped(Visit).add(company=company_id, assistant=user.id, kind=form.kind, visited_on=form.visited_on,
                                    people=form.people, topics=form.topics, created_at=now())
    if form.follow_up.strip():
        if form.follow_up_due is None:
            raise UserError(400, "Give the date the follow-up is due.", code="due_required")
        await scoped(FollowUp).add(visit=visit.id, company=company_id, assistant=user.id, text=form.follow_up.strip(),
                                   due_on=form.follow_up_due, done=False)
    return visit


async def get_follow_up(user, follow_up_id: int) -> FollowUp:
    row = await scoped(FollowUp).objects().where(FollowUp.id == follow_up_id).first()
    if row is None:
        raise UserError(404, "Not found.")
    await visible_company(user, row.company)
    await require_assistant_of(user, row.company)
    return row


async def finish_follow_up(user, follow_up_id: int) -> FollowUp:
    row = await get_follow_up(user, follow_up_id)
    row.done = True
    await row.save([FollowUp.done])
    return row


async def file_follow_up(user, follow_up_id: int, category: str) -> Case:
    """A follow-up becomes a core case on the company's behalf."""
    row = await get_follow_up(user, follow_up_id)
    if row.case:
        raise UserError(409, "This follow-up is already a case.", code="follow_up_filed")
    company = await scoped(Company).objects().where(Company.id == row.company).first()
    case = await submit_case(user, {"category": category, "title": row.text[:200], "description": row.text,
                               "company": company.credit_code})
    row.case, row.done = case.id, True
    await row.save([FollowUp.case, FollowUp.done])
    return case


async def remind_overdue(on: date | None = None) -> int:
    """Remind each assistant once of each follow-up past its due date; returns how many."""
    on = on or today()
    rows = await scoped(FollowUp).objects().where(
        (FollowUp.done == False) & (FollowUp.due_on < on) & FollowUp.reminded_on.is_null())  # noqa: E712
    for row in rows:
        link = f"liaison/companies/{row.company}"
        await notify(row.assistant, "liaison", FOLLOW_UP_OVERDUE, link=link, text=row.text[:100])
        row.reminded_on = on
        await row.save([FollowUp.reminded_on])
    return len(rows)
