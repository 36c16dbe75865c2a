"""Consultations answered by the industry experts (百晓长 / 百晓小分队).

A company asks (or its assistant or a village runner logs the question for it) in one field: the
four of the network (招商, 开办, 创新孵化, 人才引育) or one of the tenant's own (the setting
``liaison_consultation_fields``, comma-separated names).  It is routed to an expert — a lead or
team member (`Person`) with a login who covers the field — the one with the fewest open
consultations (a lead before a team member, then the earlier entry), and is due a number of
working days later (``liaison_consultation_days``, the core's working-day calendar).  The expert
answers once (a conditional update: a second answer, even at the same moment, is a 409); the
answer is kept for the company, which sees its consultations and their answers.  Open
consultations past their day are overdue and show so in the expert's queue."""

from __future__ import annotations

from typing import Annotated

import msgspec

from core.sdk import (
    N_,
    Company,
    UserError,
    company_ids_of,
    company_users,
    gettext,
    load_calendar,
    notify,
    now,
    parse,
    scoped,
    tenant_setting,
    today,
)
from plugins.liaison.access import is_coordinator, visible_company_ids
from plugins.liaison.tables import FIELD_LABELS, Consultation, Person

NEW_CONSULTATION = N_("A company asks you a question: %(question)s")
ANSWERED = N_("Your consultation has been answered: %(question)s")
COLUMNS = (Consultation.id, Consultation.field, Consultation.question, Consultation.status, Consultation.due_on,
           Consultation.answer, Consultation.answered_at, Consultation.created_at, Consultation.company,
           Consultation.company.name.as_alias("company_name"), Consultation.expert.name.as_alias("expert_name"),
           Consultation.expert.kind.as_alias("expert_kind"),
           Consultation.answered_by.display_name.as_alias("answered_by_name"))


class ConsultationForm(msgspec.Struct):
    company: int
    field: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    question: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]


def own_fields() -> list[str]:
    """The tenant's own consultation fields (its setting), in the order given."""
    text = str(tenant_setting("liaison_consultation_fields", "") or "")
    return [f.strip() for f in text.replace("，", ",").split(",") if f.strip() and f.strip() not in FIELD_LABELS]


def fields() -> dict[str, str]:
    """Every field a consultation may name: key → label in the reader's language (the tenant's
    own fields are their names, as entered)."""
    return {**{k: gettext(v) for k, v in FIELD_LABELS.items()}, **{f: f for f in own_fields()}}


def days() -> int:
    return max(1, int(tenant_setting("liaison_consultation_days", 3) or 3))


async def my_experts(user) -> list[int]:
    """The expert entries (`Person`) linked to `user`'s login."""
    rows = await scoped(Person).select(Person.id).where(
        (Person.user == user.id) & Person.kind.is_in(["lead", "team"]))
    return [r["id"] for r in rows]


async def route(field: str) -> int:
    """The expert who takes a consultation in `field` (400 when nobody covers it)."""
    experts = [p for p in await scoped(Person).select(Person.id, Person.kind, Person.fields).where(
        Person.kind.is_in(["lead", "team"]) & Person.user.is_not_null()).order_by(Person.id)
        if field in [f.strip() for f in p["fields"].split(",")]]
    if not experts:
        raise UserError(400, "No expert answers consultations in this field yet.", code="no_expert")
    open_rows = await scoped(Consultation).select(Consultation.expert).where(
        (Consultation.status == "open") & Consultation.expert.is_in([p["id"] for p in experts]))
    load = {p["id"]: 0 for p in experts}
    for r in open_rows:
        load[r["expert"]] += 1
    return min(experts, key=lambda p: (load[p["id"]], p["kind"] != "lead", p["id"]))["id"]


async def _may_ask_for(user, company_id: int) -> bool:
    if user.can("liaison.run") or is_coordinator(user):
        return True
    if user.can("liaison.assist"):
        ids = await visible_company_ids(user)
        if ids is None or company_id in ids:
            return True
    return user.has_role("company") and company_id in await company_ids_of(user.id)


async def ask(user, data: dict) -> Consultation:
    form = parse(ConsultationForm, data)
    if form.field not in fields():
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field="field")
    if not await scoped(Company).exists().where(Company.id == form.company) or not await _may_ask_for(
            user, form.company):
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field="company")
    expert = await route(form.field)
    calendar = await load_calendar()
    due = calendar.add_working_days(today(), days()).date
    row = await scoped(Consultation).add(company=form.company, field=form.field, question=form.question,
                                         asked_by=user.id, expert=expert, due_on=due, status="open",
                                         created_at=now())
    person = await scoped(Person).select(Person.user).where(Person.id == expert).first()
    await notify(person["user"], "liaison", NEW_CONSULTATION, link="liaison/consultations?show=open",
                 question=form.question[:100])
    return row


async def _visible(user):
    """The consultations `user` may see: an expert's own, a coordinator's all, the others those of
    their companies or the ones they asked."""
    query = scoped(Consultation).select(*COLUMNS)
    if is_coordinator(user):
        return query
    clause = Consultation.asked_by == user.id
    experts = await my_experts(user) if user.can("liaison.lead") else []
    if experts:
        clause = clause | Consultation.expert.is_in(experts)
    companies = set(await company_ids_of(user.id)) if user.has_role("company") else set()
    if user.can("liaison.assist"):
        companies |= set(await visible_company_ids(user) or [])
    if companies:
        clause = clause | Consultation.company.is_in(sorted(companies))
    return query.where(clause)


async def listing(user, show: str = "") -> list[dict]:
    """Consultations `user` may see, newest first; ``show``: ``open`` or ``overdue`` (of the
    user's own expert entries: the work queue's lists), or all."""
    if show in ("open", "overdue"):
        experts = await my_experts(user)
        query = scoped(Consultation).select(*COLUMNS).where(
            Consultation.expert.is_in(experts or [-1]) & (Consultation.status == "open"))
        if show == "overdue":
            query = query.where(Consultation.due_on < today())
        return await query.order_by(Consultation.due_on).order_by(Consultation.id)
    return await (await _visible(user)).order_by(Consultation.id, ascending=False)


async def count(user, show: str) -> int:
    experts = await my_experts(user)
    query = scoped(Consultation).count().where(Consultation.expert.is_in(experts or [-1]) &
                                               (Consultation.status == "open"))
    return await (query.where(Consultation.due_on < today()) if show == "overdue" else query)


async def answer(user, consultation_id: int, text: str) -> dict:
    """The routed expert answers, once; the asker and the company's users are told."""
    row = await scoped(Consultation).select(Consultation.id, Consultation.expert, Consultation.question,
                                            Consultation.company, Consultation.asked_by).where(
        Consultation.id == consultation_id).first()
    if row is None or not await (await _visible(user)).where(Consultation.id == consultation_id).first():
        raise UserError(404, "Not found.")
    if row["expert"] not in await my_experts(user):
        raise UserError(403, "Only the expert this consultation was routed to can answer it.")
    text = (text or "").strip()
    if not text or len(text) > 5000:
        raise UserError(400, "Write the answer (at most 5,000 characters).", code="answer_required")
    won = await scoped(Consultation).update({Consultation.answer: text, Consultation.status: "answered",
                                             Consultation.answered_by: user.id, Consultation.answered_at: now()}).where(
        (Consultation.id == consultation_id) & (Consultation.status == "open")).returning(Consultation.id)
    if not won:
        raise UserError(409, "This consultation has already been answered.", code="already_answered")
    told = set(await company_users(row["company"])) | ({row["asked_by"]} if row["asked_by"] else set())
    for user_id in sorted(told - {user.id}):
        await notify(user_id, "liaison", ANSWERED, link="liaison/consultations", question=row["question"][:100])
    return {"id": consultation_id, "status": "answered"}
