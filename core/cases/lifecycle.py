"""The case lifecycle (办理流程): every step, who may take it, from which status, and its record.

`perform(user, case_id, action, data)` is the one entry point for pages and the API.  A step
not allowed for the actor's role answers 403, one not allowed in the current status (or too late,
or already pending) 409, each with a message saying why.  Every step writes an event on the
tamper-evident record, tells the plugins, and queues its notifications through the outbox — all
in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Awaitable, Callable

from core.cases import inputs, notices, states as S
from core.cases.access import company_ids_of, load_visible_case, members_with_role
from core.cases.audit import append_event
from core.cases.tables import Case, Company, Extension, Objection, Refusal, Review, SignOff
from core.clock import local_date, now, today
from core.contrib import CaseEvent
from core.errors import UserError
from core.plugins import get_plugin_manager
from core.tables import Category, Department
from core.workdays import load_calendar
from tenants.scope import current_tenant, scoped


@dataclass
class Step:
    case: Case
    user: object
    role: str
    data: dict
    event: dict  # what goes on the record: reason, data


@dataclass(frozen=True)
class Action:
    roles: tuple[str, ...]
    states: frozenset[str]
    run: Callable[[Step], Awaitable[str]]  # returns the new status
    scope: str = "any"  # any | department | own_company | handler | stage


ACTIONS: dict[str, Action] = {}


def action(name: str, roles: tuple[str, ...], states: set[str], scope: str = "any"):
    def register(fn):
        ACTIONS[name] = Action(roles, frozenset(states), fn, scope)
        return fn

    return register


# -- submitting ---------------------------------------------------------------------------------

async def submit(user, data: dict) -> Case:
    """A company (or someone filing on its behalf) submits a case (提交诉求)."""
    on_behalf = not user.has_role("company")
    if on_behalf and not user.can("case.submit_on_behalf"):
        raise UserError(403, "Only a company, or an assistant on its behalf, can submit a case.")
    new = inputs.parse(inputs.NewCase, data)
    category = await scoped(Category).objects().where((Category.code == new.category) & (Category.active == True)).first()  # noqa: E712
    if category is None and new.category.isdigit():
        category = await scoped(Category).objects().where(Category.id == int(new.category)).first()
    if category is None:
        raise UserError(400, "Unknown category: %(category)s.", code="unknown_category", category=new.category)
    company = await _company_for(user, new.company, on_behalf)
    case = await scoped(Case).add(
        number="", company=company.id, submitted_by=user.id, on_behalf=on_behalf, category=category.id,
        title=new.title, description=new.description, status=S.SUBMITTED,
        search_text=search_text(new.title, new.description, company.name),
    )
    case.number = f"{current_tenant().slug[:2].upper()}{today().year}{case.id:06d}"
    await case.save([Case.number])
    await _record(case, user, "company" if not on_behalf else _first_role(user), "submit", "", S.SUBMITTED, {
        "category": category.code, "on_behalf": on_behalf})
    await notices.to_role("dispatcher", None, case, "New case %(number)s is waiting for dispatch.")
    return case


def search_text(*parts: str) -> str:
    from core.cases.search import index_text

    return index_text(*parts)


async def _company_for(user, code: str, on_behalf: bool) -> Company:
    own = await company_ids_of(user.id)
    if code:
        company = await scoped(Company).objects().where(Company.credit_code == code.upper()).first()
        if company is None or (not on_behalf and company.id not in own):
            raise UserError(400, "Unknown company: %(credit_code)s.", code="unknown_company", credit_code=code)
        return company
    if not own:
        raise UserError(400, "Name the company (its unified social credit code).", code="company_required")
    return await scoped(Company).objects().where(Company.id == own[0]).first()


def _first_role(user) -> str:
    return sorted(user.roles)[0] if user.roles else ""


# -- performing a step ----------------------------------------------------------------------------

async def perform(user, case_id: int, name: str, data: dict | None = None, version: int | None = None) -> Case:
    spec = ACTIONS.get(name)
    if spec is None:
        raise UserError(404, "Not found.")
    case = await load_visible_case(user, case_id)
    role = next((r for r in spec.roles if user.has_role(r)), None)
    if role is None:
        raise UserError(403, "Your role cannot take the step “%(step_label)s”.", step_label=S.ACTION_LABELS[name])
    if version is not None and version != case.version:
        raise UserError(409, "This case changed since you opened it. Reload the page and try again.", code="stale")
    if case.status not in spec.states:
        raise UserError(409, "The step “%(step_label)s” is not possible while the case is “%(status_label)s”.",
                        step_label=S.ACTION_LABELS[name], status_label=S.STATUS_LABELS[case.status])
    await _check_scope(spec.scope, case, user, role)
    step = Step(case=case, user=user, role=role, data=data or {}, event={"data": {}})
    before = case.status
    after = await spec.run(step)
    case.status = after
    case.version = (case.version or 0) + 1
    case.updated_at = now()
    await case.save()
    await _record(case, user, role, name, step.event.get("reason", ""), after, step.event["data"], before=before)
    return case


async def _check_scope(scope: str, case: Case, user, role: str) -> None:
    if scope == "department" and case.department not in user.department_ids:
        raise UserError(403, "Only the department the case is assigned to can do this.")
    if scope == "handler" and case.handler != user.id:
        raise UserError(403, "Only the first responder of this case can do this.")
    if scope == "own_company" and role == "company" and case.company not in await company_ids_of(user.id):
        raise UserError(403, "Only the company that filed the case can do this.")


async def _record(case: Case, user, role: str, name: str, reason: str, after: str, data: dict, before: str = "") -> None:
    await append_event(case=case.id, actor=user.id, actor_role=role, action=name, reason=reason,
                       before=before, after=after, data=data)
    tenant = current_tenant()
    for follow_up in get_plugin_manager().emit_case_event(tenant, CaseEvent(tenant.id, case.id, name, user.id,
                                                                            dict(data))):
        await follow_up  # a listener's outbox write, in this transaction


async def _deadline(case: Case, start: date | None = None, days: int | None = None) -> None:
    if days is None:
        days = (await scoped(Category).select(Category.deadline_days).where(Category.id == case.category).first())[
            "deadline_days"]
    due = (await load_calendar()).add_working_days(start or today(), days)
    case.due_date, case.due_confirmed, case.overdue, case.reminded_for = due.date, due.confirmed, False, None


async def _department(value: str) -> Department:
    query = scoped(Department).objects()
    dept = await query.where(Department.code == value).first()
    if dept is None and value.isdigit():
        dept = await scoped(Department).objects().where(Department.id == int(value)).first()
    if dept is None:
        raise UserError(400, "Unknown department: %(department)s.", code="unknown_department", department=value)
    return dept


# -- dispatch, accept, objections -----------------------------------------------------------------

@action("dispatch", ("dispatcher",), {S.SUBMITTED})
async def _dispatch(step: Step) -> str:
    form = inputs.parse(inputs.Dispatch, step.data)
    case = step.case
    if form.department:
        dept = await _department(form.department)
    else:
        lead = (await scoped(Category).select(Category.lead_department).where(Category.id == case.category).first())
        if not lead or not lead["lead_department"]:
            raise UserError(400, "Choose the department to dispatch to.", code="department_required")
        dept = await scoped(Department).objects().where(Department.id == lead["lead_department"]).first()
    case.department, case.handler, case.dispatched_at = dept.id, None, now()
    await _deadline(case)
    step.event.update(reason=form.comment, data={"department": dept.code, "due": str(case.due_date)})
    await notices.to_role("handler", dept.id, case, "Case %(number)s was dispatched to your department.")
    return S.DISPATCHED


@action("accept", ("handler",), {S.DISPATCHED}, scope="department")
async def _accept(step: Step) -> str:
    step.case.handler, step.case.accepted_at = step.user.id, now()
    return S.IN_PROGRESS


async def _pending(table, case_id: int):
    return await scoped(table).objects().where((table.case == case_id) & (table.status == "pending")).first()


@action("object", ("handler", "section_head", "dept_head"), {S.DISPATCHED, S.IN_PROGRESS}, scope="department")
async def _object(step: Step) -> str:
    form = inputs.parse(inputs.NeedReason, step.data)
    case = step.case
    elapsed = (await load_calendar()).working_days_between(local_date(case.dispatched_at), today())
    if elapsed > 1:
        raise UserError(409, "An objection is possible only within 1 working day of the dispatch.", code="too_late")
    if await _pending(Objection, case.id):
        raise UserError(409, "An objection to this assignment is already waiting for a decision.", code="pending")
    await scoped(Objection).add(case=case.id, department=case.department, raised_by=step.user.id,
                                reason=form.reason, status="pending")
    step.event["reason"] = form.reason
    await notices.to_role("dispatcher", None, case, "The department objects to the assignment of case %(number)s.")
    return case.status


@action("decide-objection", ("dispatcher",), {S.DISPATCHED, S.IN_PROGRESS})
async def _decide_objection(step: Step) -> str:
    form = inputs.parse(inputs.Decide, step.data)
    if form.decision not in ("accept", "reject"):
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field="decision")
    objection = await _pending(Objection, step.case.id)
    if objection is None:
        raise UserError(409, "There is no objection waiting for a decision.", code="nothing_pending")
    objection.status, objection.decided_by, objection.comment, objection.decided_at = (
        "accepted" if form.decision == "accept" else "rejected", step.user.id, form.comment, now())
    step.event.update(reason=form.comment, data={"decision": form.decision})
    status = step.case.status
    if form.decision == "accept":
        if not form.department:
            raise UserError(400, "Choose the department to dispatch to.", code="department_required")
        dept = await _department(form.department)
        if dept.id == step.case.department:
            raise UserError(400, "Choose a different department.", code="same_department")
        objection.new_department = dept.id
        case = step.case
        case.department, case.handler, case.dispatched_at = dept.id, None, now()
        await _deadline(case)
        step.event["data"]["department"] = dept.code
        await notices.to_role("handler", dept.id, case, "Case %(number)s was dispatched to your department.")
        status = S.DISPATCHED
    await objection.save()
    return status


# -- extension ----------------------------------------------------------------------------------

@action("extend", ("handler",), {S.IN_PROGRESS}, scope="handler")
async def _extend(step: Step) -> str:
    form = inputs.parse(inputs.Extend, step.data)
    case = step.case
    if (await load_calendar()).working_days_between(today(), case.due_date) < 1:
        raise UserError(409, "An extension must be asked for at least 1 working day before the deadline.",
                        code="too_late")
    if await _pending(Extension, case.id):
        raise UserError(409, "An extension is already waiting for a decision.", code="pending")
    await scoped(Extension).add(case=case.id, requested_by=step.user.id, days=form.days, reason=form.reason,
                                status="pending", old_due=case.due_date)
    step.event.update(reason=form.reason, data={"days": form.days})
    await notices.to_role("leader", case.department, case, "An extension of case %(number)s needs your decision.")
    return case.status


@action("decide-extension", ("leader",), {S.IN_PROGRESS, S.REFUSAL_PENDING}, scope="department")
async def _decide_extension(step: Step) -> str:
    form = inputs.parse(inputs.Decide, step.data)
    if form.decision not in ("approve", "deny"):
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field="decision")
    ext = await _pending(Extension, step.case.id)
    if ext is None:
        raise UserError(409, "There is no extension waiting for a decision.", code="nothing_pending")
    ext.status, ext.decided_by, ext.comment, ext.decided_at = (
        "approved" if form.decision == "approve" else "denied", step.user.id, form.comment, now())
    if form.decision == "approve":
        due = (await load_calendar()).add_working_days(step.case.due_date, ext.days)
        ext.new_due = due.date
        step.case.due_date, step.case.due_confirmed, step.case.overdue = due.date, due.confirmed, False
    await ext.save()
    step.event.update(reason=form.comment, data={"decision": form.decision, "due": str(step.case.due_date)})
    if step.case.handler:
        await notices.to_users([step.case.handler], step.case, "The extension of case %(number)s was decided.")
    return step.case.status


# -- resolving and refusing -----------------------------------------------------------------------

@action("resolve", ("handler",), {S.IN_PROGRESS}, scope="handler")
async def _resolve(step: Step) -> str:
    form = inputs.parse(inputs.Resolve, step.data)
    step.case.resolution, step.case.resolved_at = form.reply, now()
    step.event["reason"] = form.reply
    await notices.to_company(step.case, "Case %(number)s was resolved. Please rate the outcome.")
    return S.RESOLVED


@action("refuse", ("handler",), {S.IN_PROGRESS}, scope="handler")
async def _refuse(step: Step) -> str:
    form = inputs.parse(inputs.Refuse, step.data)
    await scoped(Refusal).add(case=step.case.id, filed_by=step.user.id, reason=form.reason, basis=form.basis,
                              stage=S.SIGN_LEVELS[0], status="pending")
    step.event.update(reason=form.reason, data={"basis": form.basis})
    await notices.to_role(S.SIGN_LEVELS[0], step.case.department, step.case,
                          "A refusal of case %(number)s needs your sign-off.")
    return S.REFUSAL_PENDING


async def open_refusal(case_id: int) -> Refusal | None:
    return await scoped(Refusal).objects().where((Refusal.case == case_id) & (Refusal.status == "pending")).first()


async def _signing(step: Step) -> Refusal:
    refusal = await open_refusal(step.case.id)
    if refusal is not None and step.user.has_role(refusal.stage):
        step.role = refusal.stage
    if refusal is None or refusal.stage != step.role:
        raise UserError(403, "This refusal is waiting for the sign-off of the %(level_label)s.",
                        level_label=S.LEVEL_LABELS.get(refusal.stage if refusal else "", "?"))
    return refusal


@action("sign", S.SIGN_LEVELS, {S.REFUSAL_PENDING}, scope="department")
async def _sign(step: Step) -> str:
    form = inputs.parse(inputs.Comment, step.data)
    refusal = await _signing(step)
    await scoped(SignOff).add(refusal=refusal.id, level=refusal.stage, signer=step.user.id, decision="signed",
                              comment=form.comment)
    step.event.update(reason=form.comment, data={"level": refusal.stage})
    position = S.SIGN_LEVELS.index(refusal.stage)
    if position + 1 < len(S.SIGN_LEVELS):
        refusal.stage = S.SIGN_LEVELS[position + 1]
        await refusal.save([Refusal.stage])
        await notices.to_role(refusal.stage, step.case.department, step.case,
                              "A refusal of case %(number)s needs your sign-off.")
        return S.REFUSAL_PENDING
    refusal.stage, refusal.status, refusal.completed_at = "done", "final", now()
    await refusal.save()
    step.case.refused_count = (step.case.refused_count or 0) + 1
    await notices.to_company(step.case, "Case %(number)s cannot be done. The reason, its basis and every signer are "
                                        "on the case page; you may ask for a review.")
    return S.REFUSED


@action("send-back", S.SIGN_LEVELS, {S.REFUSAL_PENDING}, scope="department")
async def _send_back(step: Step) -> str:
    form = inputs.parse(inputs.NeedReason, {"reason": step.data.get("comment") or step.data.get("reason", "")})
    refusal = await _signing(step)
    await scoped(SignOff).add(refusal=refusal.id, level=refusal.stage, signer=step.user.id, decision="sent_back",
                              comment=form.reason)
    refusal.status = "sent_back"
    await refusal.save([Refusal.status])
    step.event.update(reason=form.reason, data={"level": refusal.stage})
    if step.case.handler:
        await notices.to_users([step.case.handler], step.case, "The refusal of case %(number)s was sent back.")
    return S.IN_PROGRESS


# -- review (说"不"评议) ----------------------------------------------------------------------------

async def final_refusal(case_id: int) -> Refusal | None:
    return await scoped(Refusal).objects().where((Refusal.case == case_id) & (Refusal.status == "final")).order_by(
        Refusal.id, ascending=False).first()


async def open_review(case_id: int) -> Review | None:
    return await scoped(Review).objects().where((Review.case == case_id) & (Review.status != "ruled")).first()


@action("request-review", ("company", "dispatcher"), {S.REFUSED}, scope="own_company")
async def _request_review(step: Step) -> str:
    form = inputs.parse(inputs.OptionalReason, step.data)
    refusal = await final_refusal(step.case.id)
    await scoped(Review).add(case=step.case.id, refusal=refusal.id, requested_by=step.user.id, reason=form.reason,
                             status="requested")
    step.event["reason"] = form.reason
    await notices.to_role("reviewer", None, step.case, "A refusal review of case %(number)s was requested.")
    return S.UNDER_REVIEW


@action("schedule-hearing", ("reviewer",), {S.UNDER_REVIEW})
async def _schedule_hearing(step: Step) -> str:
    form = inputs.parse(inputs.Hearing, step.data)
    review = await open_review(step.case.id)
    review.hearing_at, review.place, review.status = form.hearing_at, form.place, "scheduled"
    await review.save()
    step.event["data"] = {"hearing_at": form.hearing_at.isoformat(), "place": form.place}
    await notices.to_company(step.case, "The review hearing of case %(number)s is scheduled.")
    await notices.to_role("dept_head", step.case.department, step.case,
                          "The review hearing of case %(number)s is scheduled.")
    return S.UNDER_REVIEW


@action("rule", ("reviewer",), {S.UNDER_REVIEW})
async def _rule(step: Step) -> str:
    form = inputs.parse(inputs.Rule, step.data)
    review = await open_review(step.case.id)
    if review.status != "scheduled":
        raise UserError(409, "Schedule the hearing before ruling.", code="no_hearing")
    review.status, review.verdict, review.verdict_reason, review.record = "ruled", form.verdict, form.reason, form.record
    review.ruled_by, review.ruled_at = step.user.id, now()
    await review.save()
    step.event.update(reason=form.reason, data={"verdict": form.verdict})
    case = step.case
    await notices.to_company(case, "The review panel ruled on case %(number)s.")
    if form.verdict == "upheld":
        case.closed_at = now()
        return S.CLOSED
    # Overturned: re-dispatched (二次交办) to the department with a fresh deadline; counts forever.
    case.overturned, case.redispatch_count = True, (case.redispatch_count or 0) + 1
    case.handler, case.dispatched_at = None, now()
    await _deadline(case)
    step.event["data"]["due"] = str(case.due_date)
    await notices.to_role("handler", case.department, case, "Case %(number)s was dispatched to your department.")
    return S.DISPATCHED


# -- escalation, rating, reopening, withdrawal, merging --------------------------------------------

@action("escalate", ("dispatcher",), {S.SUBMITTED, S.DISPATCHED, S.IN_PROGRESS, S.REFUSAL_PENDING})
async def _escalate(step: Step) -> str:
    if step.case.escalated:
        raise UserError(409, "This case is already escalated.", code="already_escalated")
    form = inputs.parse(inputs.NeedReason, step.data)
    await escalate(step.case, form.reason)
    step.event["reason"] = form.reason
    return step.case.status


async def escalate(case: Case, reason: str) -> None:
    """Escalation (提级办理): the case goes to the leader in charge of its department."""
    leaders = await members_with_role("leader", case.department) if case.department else []
    case.escalated, case.escalated_to = True, (leaders[0] if leaders else None)
    await notices.to_users(leaders, case, "Case %(number)s was escalated to you.")


@action("rate", ("company",), {S.RESOLVED}, scope="own_company")
async def _rate(step: Step) -> str:
    form = inputs.parse(inputs.Rate, step.data)
    step.case.rating, step.case.rating_comment, step.case.closed_at = form.rating, form.comment, now()
    step.event.update(reason=form.comment, data={"rating": form.rating})
    return S.CLOSED


@action("reopen", ("company",), {S.CLOSED}, scope="own_company")
async def _reopen(step: Step) -> str:
    form = inputs.parse(inputs.NeedReason, step.data)
    case = step.case
    if case.rating != "unsatisfied" or case.reopened:
        raise UserError(409, "A case can be reopened once, after an “unsatisfied” rating.", code="cannot_reopen")
    case.reopened, case.closed_at, case.resolved_at = True, None, None
    await _deadline(case)
    step.event.update(reason=form.reason, data={"due": str(case.due_date)})
    if case.handler:
        await notices.to_users([case.handler], case, "Case %(number)s was reopened by the company.")
    return S.IN_PROGRESS


@action("withdraw", ("company",), {S.SUBMITTED, S.DISPATCHED, S.IN_PROGRESS}, scope="own_company")
async def _withdraw(step: Step) -> str:
    form = inputs.parse(inputs.OptionalReason, step.data)
    step.case.closed_at = now()
    step.event["reason"] = form.reason
    return S.WITHDRAWN


@action("merge", ("dispatcher",), {S.SUBMITTED, S.DISPATCHED})
async def _merge(step: Step) -> str:
    form = inputs.parse(inputs.Merge, step.data)
    target = await scoped(Case).objects().where(Case.number == form.into).first()
    if target is None and form.into.isdigit():
        target = await scoped(Case).objects().where(Case.id == int(form.into)).first()
    if target is None or target.id == step.case.id or target.status not in S.OPEN:
        raise UserError(400, "Merge into another open case of this district or township.", code="bad_merge_target")
    step.case.merged_into, step.case.closed_at = target.id, now()
    step.event.update(reason=form.reason, data={"into": target.number})
    return S.MERGED


async def available_actions(user, case: Case) -> list[str]:
    """The steps `user` could take on `case` now (for the buttons on its page)."""
    names = []
    for name, spec in ACTIONS.items():
        role = next((r for r in spec.roles if user.has_role(r)), None)
        if role is None or case.status not in spec.states:
            continue
        try:
            await _check_scope(spec.scope, case, user, role)
        except UserError:
            continue
        names.append(name)
    if case.status == S.REFUSAL_PENDING:
        refusal = await open_refusal(case.id)
        if refusal is None or not user.has_role(refusal.stage):
            names = [n for n in names if n not in ("sign", "send-back")]
    if "decide-objection" in names and await _pending(Objection, case.id) is None:
        names.remove("decide-objection")
    if "decide-extension" in names and await _pending(Extension, case.id) is None:
        names.remove("decide-extension")
    if "reopen" in names and (case.rating != "unsatisfied" or case.reopened):
        names.remove("reopen")
    if "escalate" in names and case.escalated:
        names.remove("escalate")
    return names
