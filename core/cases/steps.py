"""The steps of the case lifecycle (办理环节): each registered with `@action` — who may take it,
from which status — and run by `core.cases.lifecycle.perform` inside the caller's transaction."""

from __future__ import annotations

from core.cases import actions, escalation, inputs, notices, states as S
from core.cases.actions import Step, action, find_department, open_refusal, pending, set_deadline
from core.cases.escalation import Reach
from core.cases.filing import company_for, search_text
from core.cases.tables import Case, Extension, Objection, Refusal, Review, SignOff
from core.clock import local_date, now
from core.errors import UserError
from core.i18n import N_
from core.scope import scoped
from core.tables import Category, Department
from core.workdays import load_calendar

# -- dispatch, accept, objections -----------------------------------------------------------------

@action("attach-company", ("dispatcher",), {S.SUBMITTED})
async def _attach_company(step: Step) -> str:
    """An intake that named no company (an anonymous Open311 request) gets its company (关联企业)."""
    form = inputs.parse(inputs.AttachCompany, step.data)
    case = step.case
    if case.company is not None:
        raise UserError(409, "This case already has its company.", code="has_company")
    company = await company_for(step.user, form.company, on_behalf=True)
    case.company = company.id
    case.search_text = search_text(case.title, case.description, company.name)
    step.event.update(reason=form.comment, data={"company": company.credit_code})
    return case.status


@action("dispatch", ("dispatcher",), {S.SUBMITTED})
async def _dispatch(step: Step) -> str:
    form = inputs.parse(inputs.Dispatch, step.data)
    case = step.case
    if case.company is None:
        raise UserError(409, "Attach the company before dispatching this case.", code="company_required")
    if form.department:
        dept = await find_department(form.department)
    else:
        lead = (await scoped(Category).select(Category.lead_department).where(Category.id == case.category).first())
        if not lead or not lead["lead_department"]:
            raise UserError(400, "Choose the department to dispatch to.", code="department_required")
        dept = await scoped(Department).objects().where(Department.id == lead["lead_department"]).first()
    case.department, case.handler, case.dispatched_at = dept.id, None, now()
    await set_deadline(case)
    step.event.update(reason=form.comment, data={"department": dept.code, "due": str(case.due_date)})
    await notices.to_role("handler", dept.id, case, "Case %(number)s was dispatched to your department.")
    return S.DISPATCHED


@action("accept", ("handler",), {S.DISPATCHED}, scope="department")
async def _accept(step: Step) -> str:
    step.case.handler, step.case.accepted_at = step.user.id, now()
    return S.IN_PROGRESS


@action("object", ("handler", "section_head", "dept_head"), {S.DISPATCHED, S.IN_PROGRESS}, scope="department")
async def _object(step: Step) -> str:
    form = inputs.parse(inputs.NeedReason, step.data)
    case = step.case
    elapsed = (await load_calendar()).working_days_between(local_date(case.dispatched_at), actions.today())
    if elapsed > 1:
        raise UserError(409, "An objection is possible only within 1 working day of the dispatch.", code="too_late")
    if await pending(Objection, case.id):
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
    objection = await pending(Objection, step.case.id)
    if objection is None:
        raise UserError(409, "There is no objection waiting for a decision.", code="nothing_pending")
    objection.status, objection.decided_by, objection.comment, objection.decided_at = (
        "accepted" if form.decision == "accept" else "rejected", step.user.id, form.comment, now())
    step.event.update(reason=form.comment, data={"decision": form.decision})
    status = step.case.status
    if form.decision == "accept":
        if not form.department:
            raise UserError(400, "Choose the department to dispatch to.", code="department_required")
        dept = await find_department(form.department)
        if dept.id == step.case.department:
            raise UserError(400, "Choose a different department.", code="same_department")
        objection.new_department = dept.id
        case = step.case
        case.department, case.handler, case.dispatched_at = dept.id, None, now()
        await set_deadline(case)
        step.event["data"].update(department=dept.code, due=str(case.due_date))
        await notices.to_role("handler", dept.id, case, "Case %(number)s was dispatched to your department.")
        status = S.DISPATCHED
    await objection.save()
    return status


# -- extension ----------------------------------------------------------------------------------

@action("extend", ("handler",), {S.IN_PROGRESS}, scope="handler")
async def _extend(step: Step) -> str:
    form = inputs.parse(inputs.Extend, step.data)
    case = step.case
    if (await load_calendar()).working_days_between(actions.today(), case.due_date) < 1:
        raise UserError(409, "An extension must be asked for at least 1 working day before the deadline.",
                        code="too_late")
    if await pending(Extension, case.id):
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
    ext = await pending(Extension, step.case.id)
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


async def _signing(step: Step) -> Refusal:
    """The pending refusal, if `step.user` may sign it at its current level: holds that level's
    role, and is neither who refused nor a signer of an earlier level (separation of duties)."""
    refusal = await open_refusal(step.case.id)
    if refusal is not None and step.user.has_role(refusal.stage):
        step.role = refusal.stage
    if refusal is None or refusal.stage != step.role:
        stage = refusal.stage if refusal else ""
        if stage in S.SIGN_LEVELS and any(step.user.has_role(level)
                                          for level in S.SIGN_LEVELS[:S.SIGN_LEVELS.index(stage)]):
            raise UserError(409, "This level has already signed the refusal; it now waits for the %(level_label)s.",
                            code="already_signed", level_label=S.LEVEL_LABELS[stage])
        raise UserError(403, "This refusal is waiting for the sign-off of the %(level_label)s.",
                        level_label=S.LEVEL_LABELS.get(stage, "?"))
    if step.user.id == refusal.filed_by or await scoped(SignOff).exists().where(
            (SignOff.refusal == refusal.id) & (SignOff.signer == step.user.id)):
        raise UserError(403, "Who refuses a case and each of its signers must be different people.",
                        code="separation_of_duties")
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
    assert refusal is not None  # a refused case has its final refusal
    await scoped(Review).add(case=step.case.id, refusal=refusal.id, requested_by=step.user.id, reason=form.reason,
                             status="requested")
    step.event["reason"] = form.reason
    await notices.to_role("reviewer", None, step.case, "A refusal review of case %(number)s was requested.")
    return S.UNDER_REVIEW


@action("schedule-hearing", ("reviewer",), {S.UNDER_REVIEW})
async def _schedule_hearing(step: Step) -> str:
    form = inputs.parse(inputs.Hearing, step.data)
    review = await open_review(step.case.id)
    assert review is not None  # a case under review has its open review
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
    assert review is not None  # a case under review has its open review
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
    await set_deadline(case)
    step.event["data"]["due"] = str(case.due_date)
    await notices.to_role("handler", case.department, case, "Case %(number)s was dispatched to your department.")
    return S.DISPATCHED


@action("redispatch", ("dispatcher", "leader"), {S.REFUSED})
async def _redispatch(step: Step) -> str:
    """Re-dispatch (二次交办) of a refused case by the dispatcher or a leader, alone or in a batch
    (`core.cases.redispatch`): back to its department with a fresh deadline, as an overturn does.
    A case whose refusal is under review is not refused any more (`under_review`): the panel rules first."""
    form = inputs.parse(inputs.NeedReason, step.data)
    case = step.case
    case.redispatch_count = (case.redispatch_count or 0) + 1
    case.handler, case.dispatched_at, case.resolved_at, case.closed_at = None, now(), None, None
    await set_deadline(case)
    step.event.update(reason=form.reason, data={"due": str(case.due_date)})
    if step.data.get("batch"):
        step.event["data"]["batch"] = int(step.data["batch"])
    await notices.to_role("handler", case.department, case, "Case %(number)s was dispatched to your department.")
    return S.DISPATCHED


# -- escalation, rating, reopening, withdrawal, merging --------------------------------------------

@action("escalate", ("dispatcher",), {S.SUBMITTED, S.DISPATCHED, S.IN_PROGRESS, S.REFUSAL_PENDING})
async def _escalate(step: Step) -> str:
    if step.case.escalated:
        raise UserError(409, "This case is already escalated.", code="already_escalated")
    form = inputs.parse(inputs.NeedReason, step.data)
    reached = await escalate(step.case, form.reason)
    step.event.update(reason=form.reason, data=reached.event_data())
    return step.case.status


ESCALATED_TO_YOU = N_("Case %(number)s was escalated to you.")
BATCH = 1000  # ids per UPDATE


async def escalate(case: Case, reason: str) -> Reach:
    """Escalation (提级办理): the case goes to the leader in charge of its department, or down the
    fallback chain (`core.cases.escalation`) to the district leader or the dispatchers — never to
    nobody.  Returns whom it reached, for the event."""
    reached = await escalation.reach(case.department)
    if not reached.users:
        raise UserError(409, "This case has nobody to be escalated to: its department has no leader in charge, "
                             "the tenant names no district leader and has no dispatcher.", code="no_leader")
    case.escalated, case.escalated_to = True, reached.users[0]
    await notices.to_users(reached.users, case, ESCALATED_TO_YOU)
    return reached


async def escalate_many(cases: list[dict], where=None) -> dict[int, Reach]:
    """Escalate many cases at once (the deadline sweep's automatic escalation), each as `escalate`
    would, written with a few UPDATEs instead of a save per case.

    `cases` are rows with the case's "id", "number" and "department".  A case already escalated
    (by a step, or by an overlapping run) is left alone, and so is one not matching `where` (a
    further condition on the case row), or one nobody can be reached for; returns whom each case
    escalated reached, by id.  Only they are told; the caller records the events.
    """
    if not cases:
        return {}
    reached = {d: await escalation.reach(d) for d in sorted({c["department"] for c in cases}, key=lambda d: d or 0)}
    by_target: dict[int, list[int]] = {}
    for c in cases:
        found = reached[c["department"]]
        if found.users:
            by_target.setdefault(found.users[0], []).append(c["id"])
    done: set[int] = set()
    for target, ids in by_target.items():
        ids = sorted(ids)
        for start in range(0, len(ids), BATCH):
            query = scoped(Case).update({Case.escalated: True, Case.escalated_to: target}).where(
                Case.id.is_in(ids[start:start + BATCH]) & (Case.escalated == False))  # noqa: E712
            if where is not None:
                query = query.where(where)
            done.update(r["id"] for r in await query.returning(Case.id))
    await notices.to_users_many([(reached[c["department"]].users, c, ESCALATED_TO_YOU)
                                 for c in sorted(cases, key=lambda c: c["id"]) if c["id"] in done])
    return {c["id"]: reached[c["department"]] for c in cases if c["id"] in done}


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
    await set_deadline(case)
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
