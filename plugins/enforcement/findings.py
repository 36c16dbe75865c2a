"""Findings and their outcomes (处理结果), the head's sign-off, and contesting an outcome.

Each violation an inspection finds is recorded with one outcome: corrected with guidance,
not penalised under a list item (首违不罚 for a first violation, or 不予强制), mitigated under a
从轻减轻 item, or penalised.  Whether a violation is a first one is computed: no earlier finding
of the company under the same list item.  A penalty where a no-penalty item applies to a first
violation needs a reason and the sign-off of the inspecting department's head, who may not be
the officer who recorded it; of two parallel sign-offs one wins, the other answers 409.  The
company may contest a final outcome once: that files a core case (诉求) linked both ways — the
finding keeps the case, the case's record gets an `enforcement_contest` event naming the finding.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from core.sdk import (
    N_,
    Case,
    Category,
    Company,
    UserError,
    append_event,
    gettext,
    members_with_role,
    notify,
    now,
    parse,
    scoped,
    submit_case,
    tenant_setting,
    today,
)
from plugins.enforcement.access import invalid, not_found, require_company_visible, require_head_of, require_officer_of
from plugins.enforcement.inspections import get as get_inspection
from plugins.enforcement.labels import OUTCOMES
from plugins.enforcement.tables import Finding, Inspection, ListItem

Text = Annotated[str, msgspec.Meta(max_length=2000)]
NEEDS_SIGNOFF = N_("A penalty where 首违不罚 applies waits for your sign-off: %(description)s")
CONTESTED = N_("%(company)s contested an enforcement outcome; case %(number)s.")
COLUMNS = (Finding.id, Finding.inspection, Finding.company, Finding.description, Finding.list_item,
           Finding.first_violation, Finding.outcome, Finding.penalty_fen, Finding.reason, Finding.status,
           Finding.recorded_by, Finding.signed_by, Finding.signed_at, Finding.signoff_comment, Finding.contest_case,
           Finding.contest_reason, Finding.contested_at, Finding.created_at, Finding.version,
           Finding.list_item.code.as_alias("item_code"), Finding.list_item.kind.as_alias("item_kind"),
           Finding.list_item.title.as_alias("item_title"),
           Finding.list_item.legal_basis.as_alias("item_legal_basis"),
           Finding.contest_case.number.as_alias("case_number"),
           Finding.company.name.as_alias("company_name"),
           Finding.inspection.department.as_alias("department"),
           Finding.inspection.department.name_zh.as_alias("department_name"),
           Finding.inspection.department.name_en.as_alias("department_name_en"),
           Finding.inspection.planned_on.as_alias("planned_on"),
           Finding.recorded_by.display_name.as_alias("recorded_by_name"),
           Finding.signed_by.display_name.as_alias("signed_by_name"))


class FindingOutcome(msgspec.Struct):
    """A finding and its outcome."""

    description: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    outcome: Literal["corrected", "not_penalised", "mitigated", "penalised"]
    list_item: int | None = None
    penalty_fen: Annotated[int, msgspec.Meta(ge=0, le=10_000_000_000)] = 0
    reason: Text = ""


class PenaltySignOff(msgspec.Struct):
    decision: Literal["approve", "return"]
    comment: Text = ""


class OutcomeContest(msgspec.Struct):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


async def _item(item_id: int | None) -> ListItem | None:
    if item_id is None:
        return None
    item = await scoped(ListItem).objects().where((ListItem.id == item_id) & (ListItem.active == True)).first()  # noqa: E712
    if item is None:
        raise invalid("list_item")
    return item


async def _is_first(company_id: int, item_id: int | None, finding_id: int | None = None) -> bool:
    if item_id is None:
        return True
    query = scoped(Finding).exists().where((Finding.company == company_id) & (Finding.list_item == item_id))
    if finding_id is not None:
        query = query.where(Finding.id < finding_id)
    return not await query


async def _decide(form: FindingOutcome, company_id: int, finding_id: int | None = None) -> dict:
    """The finding's columns from the outcome asked for, by the lists' rules (400 naming the field)."""
    item = await _item(form.list_item)
    first = await _is_first(company_id, item.id if item else None, finding_id)
    status = "final"
    if form.outcome in ("corrected", "not_penalised") and form.penalty_fen:
        raise invalid("penalty_fen")
    if form.outcome == "not_penalised":
        if item is None or item.kind not in ("no_penalty", "no_coercion"):
            raise invalid("list_item")
        if item.kind == "no_penalty" and not first:
            raise UserError(400, "This company has violated this item before: 首违不罚 applies to a first violation only (%(field)s).",
                            code="invalid", field="list_item")
    elif form.outcome == "mitigated":
        if item is None or item.kind != "mitigated":
            raise invalid("list_item")
    elif form.outcome == "penalised":
        if form.penalty_fen <= 0:
            raise invalid("penalty_fen")
        if item is not None and item.kind == "no_penalty" and first:
            if not form.reason.strip():
                raise UserError(400, "A penalty where 首违不罚 applies to a first violation needs a reason (%(field)s).",
                                code="invalid", field="reason")
            status = "awaiting_signoff"
    return dict(description=form.description, outcome=form.outcome, list_item=item.id if item else None,
                first_violation=first, penalty_fen=form.penalty_fen, reason=form.reason.strip(), status=status)


async def _tell_heads(department_id: int, finding_id: int, inspection_id: int, description: str) -> None:
    for head in await members_with_role("dept_head", department_id):
        await notify(head, "enforcement", NEEDS_SIGNOFF, link=f"enforcement/inspections/{inspection_id}",
                     description=description[:80])


async def record(user, inspection_id: int, data: dict) -> Finding:
    """An officer of the inspecting department records a finding and its outcome."""
    inspection = await get_inspection(inspection_id)
    require_officer_of(user, inspection.department)
    form = parse(FindingOutcome, data)
    if inspection.status == "cancelled":
        raise UserError(409, "This step is not possible at this stage of the inspection.", code="state")
    if inspection.planned_on > today():
        raise UserError(409, "The inspection has not taken place yet.", code="not_yet")
    values = await _decide(form, inspection.company)
    finding = await scoped(Finding).add(inspection=inspection.id, company=inspection.company, recorded_by=user.id,
                                        created_at=now(), version=0, **values)
    if inspection.status == "planned":
        await scoped(Inspection).update({Inspection.status: "inspected", Inspection.version: Inspection.version + 1}).where(
            (Inspection.id == inspection.id) & (Inspection.status == "planned"))
    if finding.status == "awaiting_signoff":
        await _tell_heads(inspection.department, finding.id, inspection.id, finding.description)
    return finding


async def get(finding_id: int) -> Finding:
    row = await scoped(Finding).objects().where(Finding.id == finding_id).first()
    if row is None:
        raise not_found()
    return row


async def _save(row: Finding, values: dict, status: str) -> None:
    """Write only if the finding is still as read (version and status); 409 for the loser."""
    saved = await scoped(Finding).update({**values, Finding.version: row.version + 1}).where(
        (Finding.id == row.id) & (Finding.version == row.version) & (Finding.status == status)).returning(Finding.id)
    if not saved:
        raise UserError(409, "This outcome changed since you opened it. Reload the page and try again.", code="stale")


async def step(user, finding_id: int, name: str, data: dict | None = None) -> Finding:
    row = await get(finding_id)
    await require_company_visible(user, row.company)  # 404 for another company's user
    data = data or {}
    inspection = await get_inspection(row.inspection)
    if name == "sign-off":
        await sign_off(user, row, inspection, data)
    elif name == "revise":
        require_officer_of(user, inspection.department)
        if row.status != "returned":
            raise UserError(409, "This step is not possible at this stage of the outcome.", code="state")
        values = await _decide(parse(FindingOutcome, data), row.company, row.id)
        await _save(row, {getattr(Finding, k): v for k, v in values.items()} | {
            Finding.recorded_by: user.id, Finding.signed_by: None, Finding.signed_at: None}, "returned")
        if values["status"] == "awaiting_signoff":
            await _tell_heads(inspection.department, row.id, inspection.id, values["description"])
    elif name == "contest":
        await contest(user, row, inspection, data)
    else:
        raise not_found()
    return await get(finding_id)


async def sign_off(user, row: Finding, inspection: Inspection, data: dict) -> None:
    require_head_of(user, inspection.department)
    if row.recorded_by == user.id:
        raise UserError(403, "The officer who recorded the penalty cannot also sign it off.", code="same_person")
    form = parse(PenaltySignOff, data)
    if row.status != "awaiting_signoff":
        raise UserError(409, "This outcome is not waiting for a sign-off.", code="state")
    if form.decision == "return" and not form.comment.strip():
        raise invalid("comment")
    status = "final" if form.decision == "approve" else "returned"
    await _save(row, {Finding.status: status, Finding.signed_by: user.id, Finding.signed_at: now(),
                      Finding.signoff_comment: form.comment.strip()}, "awaiting_signoff")


def _contest_category(department_id: int, categories: list[dict]) -> str:
    """The category of the contest case: the tenant's setting, else one led by the inspecting
    department, else the first."""
    wanted = str(tenant_setting("enforcement_contest_category") or "")
    codes = [c["code"] for c in categories]
    if wanted in codes:
        return wanted
    led = [c["code"] for c in categories if c["lead_department"] == department_id]
    return (led or codes or [""])[0]


async def contest(user, row: Finding, inspection: Inspection, data: dict) -> Case:
    """The company contests a final outcome: a core case, filed by the company, linked both ways."""
    if not user.has_role("company"):
        raise UserError(403, "Only the company concerned can contest an outcome.")
    form = parse(OutcomeContest, data)
    if row.status != "final" or row.contest_case is not None or row.contested_at is not None:
        raise UserError(409, "This outcome cannot be contested now (it is not final, or already contested).",
                        code="state")
    # Claim the finding first: of two parallel contests one files a case, the other answers 409.
    await _save(row, {Finding.contested_at: now(), Finding.contest_reason: form.reason.strip()}, "final")
    company = await scoped(Company).objects().where(Company.id == row.company).first()
    categories = await scoped(Category).select(Category.code, Category.lead_department).where(
        Category.active == True).order_by(Category.id)  # noqa: E712
    title = gettext(N_("Contesting an enforcement outcome: %(outcome)s"), outcome=gettext(OUTCOMES[row.outcome]))
    description = "\n".join([
        gettext(N_("Inspection on %(date)s: %(basis)s"), date=str(inspection.planned_on), basis=inspection.legal_basis),
        gettext(N_("Finding: %(description)s"), description=row.description),
        gettext(N_("The company's reason: %(reason)s"), reason=form.reason.strip())])
    case = await submit_case(user, {"category": _contest_category(inspection.department, categories),
                                    "title": title[:200], "description": description[:5000],
                                    "company": company.credit_code})
    await scoped(Finding).update({Finding.contest_case: case.id}).where(Finding.id == row.id)
    await append_event(case=case.id, actor=user.id, actor_role="company", action="enforcement_contest",
                       before=case.status, after=case.status,
                       data={"finding": row.id, "inspection": inspection.id, "outcome": row.outcome})
    if row.recorded_by:
        await notify(row.recorded_by, "enforcement", CONTESTED, link=f"cases/{case.id}", company=company.name,
                     number=case.number)
    return case


# -- reading ----------------------------------------------------------------------------------------

async def findings_of(inspection_id: int) -> list[dict]:
    return await scoped(Finding).select(*COLUMNS).where(Finding.inspection == inspection_id).order_by(Finding.id)


async def one(finding_id: int) -> dict:
    row = await scoped(Finding).select(*COLUMNS).where(Finding.id == finding_id).first()
    if row is None:
        raise not_found()
    return row


async def list_for(companies: list[int] | None, status: str = "", department_ids: set[int] | None = None) -> list[dict]:
    query = scoped(Finding).select(*COLUMNS)
    if companies is not None:
        query = query.where(Finding.company.is_in(companies or [-1]))
    if status:
        query = query.where(Finding.status == status)
    if department_ids is not None:
        query = query.where(Finding.inspection.department.is_in(sorted(department_ids) or [-1]))
    return await query.order_by(Finding.id, ascending=False).limit(200)
