"""Inspections of companies (涉企检查), registered before they happen, and joint inspections
(综合查一次).

An officer registers an inspection for their department: the company, the date, what is checked,
the legal basis (法律依据, required) and the inspectors.  When any department has inspected, or
will inspect, the same company within the tenant's window (`enforcement_window_days`, 30 by
default) of that date, the inspection carries a warning naming them and proposes a joint
inspection instead: the officer proposes one (the others are told), and each department joins
with its own inspection, which then takes the joint date.  The company sees every inspection
announced for it.  State changes are updates conditioned on the row's version: of two parallel
steps one wins, the other answers 409."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import msgspec

from core.sdk import N_, Department, UserError, company_users, notify, now, parse, scoped, tenant_setting, today
from plugins.enforcement.access import (
    company_of,
    department_of,
    forbidden,
    invalid,
    not_found,
    own_companies,
    require_company_visible,
    require_officer_of,
)
from plugins.enforcement.tables import Finding, Inspection, JointInspection

Required = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Short = Annotated[str, msgspec.Meta(max_length=200)]
JOINT_PROPOSED = N_("A joint inspection of %(company)s on %(date)s is proposed: join it instead of a separate visit.")
ANNOUNCED = N_("An inspection of %(company)s by %(department)s is announced for %(date)s.")
TOMORROW = N_("Tomorrow %(department)s inspects %(company)s: %(subject)s. Legal basis: %(basis)s")
COLUMNS = (Inspection.id, Inspection.department, Inspection.company, Inspection.subject, Inspection.legal_basis,
           Inspection.planned_on, Inspection.inspectors, Inspection.joint, Inspection.status, Inspection.version,
           Inspection.registered_by, Inspection.created_at,
           Inspection.department.name_zh.as_alias("department_name"),
           Inspection.department.name_en.as_alias("department_name_en"),
           Inspection.company.name.as_alias("company_name"),
           Inspection.company.credit_code.as_alias("credit_code"))


class InspectionAnnouncement(msgspec.Struct):
    """An inspection to announce: company (credit code), date, legal basis, inspectors."""

    company: Annotated[str, msgspec.Meta(min_length=1, max_length=18)]
    planned_on: date
    legal_basis: Required
    inspectors: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    subject: Short = ""
    department: Short = ""  # code; the officer's own department when they have one


def window_days() -> int:
    try:
        return max(0, int(tenant_setting("enforcement_window_days") or 0))
    except (TypeError, ValueError):
        return 30


async def register(user, data: dict) -> Inspection:
    """Announce an inspection; 400 naming the field for bad input (nothing stored)."""
    if not user.can("enforcement.inspect"):
        raise forbidden()
    form = parse(InspectionAnnouncement, data)
    department = await department_of(user, form.department)
    company = await company_of(form.company)
    if form.planned_on < today():
        raise UserError(400, "An inspection is registered before it happens: %(field)s must be today or later.",
                        code="invalid", field="planned_on")
    row = await scoped(Inspection).add(department=department, company=company.id, subject=form.subject,
                                       legal_basis=form.legal_basis, planned_on=form.planned_on,
                                       inspectors=form.inspectors, status="planned", registered_by=user.id,
                                       created_at=now(), version=0)
    dept = await scoped(Department).select(Department.name_zh).where(Department.id == department).first()
    for member in await company_users(company.id):
        await notify(member, "enforcement", ANNOUNCED, link=f"enforcement/inspections/{row.id}",
                     company=company.name, department=dept["name_zh"] if dept else "", date=str(form.planned_on))
    return row


async def get(inspection_id: int) -> Inspection:
    row = await scoped(Inspection).objects().where(Inspection.id == inspection_id).first()
    if row is None:
        raise not_found()
    return row


async def visible(user, inspection_id: int) -> Inspection:
    """The inspection, if `user` may see it (a company user only their own companies'); else 404."""
    row = await get(inspection_id)
    await require_company_visible(user, row.company)
    return row


async def nearby(row: Inspection | dict) -> list[dict]:
    """Other inspections of the same company, by any department, within the window of its date
    (cancelled ones and those of its own joint inspection aside)."""
    get_ = row.get if isinstance(row, dict) else (lambda k: getattr(row, k))
    days = window_days()
    planned = get_("planned_on")
    query = scoped(Inspection).select(*COLUMNS).where(
        (Inspection.company == get_("company")) & (Inspection.id != get_("id"))
        & (Inspection.status != "cancelled")
        & (Inspection.planned_on >= planned - timedelta(days=days))
        & (Inspection.planned_on <= planned + timedelta(days=days)))
    rows = await query.order_by(Inspection.planned_on)
    joint = get_("joint")
    return [r for r in rows if joint is None or r["joint"] != joint]


async def warning(row: Inspection | dict) -> dict | None:
    """The repeated-inspection warning of a planned inspection not yet in a joint one: the others
    within the window and the joint inspection to join (an existing one of theirs) or to propose."""
    get_ = row.get if isinstance(row, dict) else (lambda k: getattr(row, k))
    if get_("status") != "planned" or get_("joint") is not None:
        return None
    others = await nearby(row)
    if not others:
        return None
    joints = sorted({r["joint"] for r in others if r["joint"]})
    return {"window_days": window_days(), "inspections": others, "join": joints[0] if joints else None,
            "propose": not joints}


async def _claim(row: Inspection, values: dict, *conditions) -> None:
    """Write `values` only if the row is as read (version, and `conditions`); 409 otherwise."""
    where = (Inspection.id == row.id) & (Inspection.version == row.version)
    for condition in conditions:
        where = where & condition
    saved = await scoped(Inspection).update({**values, Inspection.version: row.version + 1}).where(where).returning(
        Inspection.id)
    if not saved:
        raise UserError(409, "This inspection changed since you opened it. Reload the page and try again.",
                        code="stale")


async def step(user, inspection_id: int, name: str, data: dict | None = None) -> Inspection:
    row = await visible(user, inspection_id)  # 404 first
    data = data or {}
    require_officer_of(user, row.department)
    if name == "propose-joint":
        await propose_joint(user, row)
    elif name == "join":
        await join(user, row, data.get("joint"))
    elif name == "inspected":
        if row.status != "planned":
            raise UserError(409, "This step is not possible at this stage of the inspection.", code="state")
        if row.planned_on > today():
            raise UserError(409, "The inspection has not taken place yet.", code="not_yet")
        await _claim(row, {Inspection.status: "inspected"}, Inspection.status == "planned")
    elif name == "cancel":
        if row.status != "planned" or await scoped(Finding).exists().where(Finding.inspection == row.id):
            raise UserError(409, "This step is not possible at this stage of the inspection.", code="state")
        await _claim(row, {Inspection.status: "cancelled", Inspection.joint: None}, Inspection.status == "planned")
    else:
        raise not_found()
    return await get(inspection_id)


async def propose_joint(user, row: Inspection) -> JointInspection:
    """Propose a joint inspection (综合查一次) on this inspection's date; the departments of the
    inspections within the window are told and may join."""
    if row.status != "planned" or row.joint is not None:
        raise UserError(409, "This step is not possible at this stage of the inspection.", code="state")
    others = await nearby(row)
    if not others:
        raise UserError(409, "No other inspection of this company falls within the window.", code="no_repeat")
    joint = await scoped(JointInspection).add(company=row.company, planned_on=row.planned_on,
                                              lead_department=row.department, proposed_by=user.id, created_at=now())
    await _claim(row, {Inspection.joint: joint.id}, Inspection.joint.is_null(), Inspection.status == "planned")
    company = others[0]["company_name"]
    for registrant in sorted({o["registered_by"] for o in others if o["registered_by"] and o["status"] == "planned"}
                             - {user.id}):
        await notify(registrant, "enforcement", JOINT_PROPOSED, link=f"enforcement/inspections/{row.id}",
                     company=company, date=str(row.planned_on))
    return joint


async def join(user, row: Inspection, joint_id) -> None:
    """Join this department's inspection to a joint inspection of the same company within the
    window; it takes the joint date."""
    try:
        joint_id = int(joint_id)
    except (TypeError, ValueError):
        raise invalid("joint") from None
    joint = await scoped(JointInspection).objects().where(JointInspection.id == joint_id).first()
    if joint is None or joint.company != row.company:
        raise not_found()
    if row.status != "planned" or row.joint is not None:
        raise UserError(409, "This step is not possible at this stage of the inspection.", code="state")
    if abs((joint.planned_on - row.planned_on).days) > window_days() or joint.planned_on < today():
        raise UserError(409, "This joint inspection is not within the window of your inspection.", code="window")
    await _claim(row, {Inspection.joint: joint.id, Inspection.planned_on: joint.planned_on},
                 Inspection.joint.is_null(), Inspection.status == "planned")


async def remind_tomorrow(on: date | None = None) -> int:
    """The daily job: remind the company's users of each inspection announced for the next day,
    once (the row records it; of two runs at once only one reminds).  Returns how many."""
    on = on or today()
    rows = await scoped(Inspection).select(*COLUMNS).where(
        (Inspection.status == "planned") & (Inspection.planned_on == on + timedelta(days=1))
        & Inspection.reminded_on.is_null())
    reminded = 0
    for row in rows:
        claimed = await scoped(Inspection).update({Inspection.reminded_on: on}).where(
            (Inspection.id == row["id"]) & Inspection.reminded_on.is_null()).returning(Inspection.id)
        if not claimed:
            continue
        for member in await company_users(row["company"]):
            await notify(member, "enforcement", TOMORROW, link=f"enforcement/inspections/{row['id']}",
                         department=row["department_name"], company=row["company_name"], subject=row["subject"],
                         basis=row["legal_basis"][:200])
        reminded += 1
    return reminded


# -- reading ----------------------------------------------------------------------------------------

async def list_for(user, company_id: int | None = None, limit: int = 200) -> list[dict]:
    """Inspections `user` may see, newest date first (a company user: their own companies')."""
    companies = await own_companies(user)
    query = scoped(Inspection).select(*COLUMNS)
    if companies is not None:
        query = query.where(Inspection.company.is_in(companies or [-1]))
    if company_id is not None:
        query = query.where(Inspection.company == company_id)
    return await query.order_by(Inspection.planned_on, ascending=False).order_by(Inspection.id, ascending=False).limit(
        limit)


async def detail(user, inspection_id: int) -> dict:
    await visible(user, inspection_id)
    row = await scoped(Inspection).select(*COLUMNS).where(Inspection.id == inspection_id).first()
    joint = None
    if row["joint"]:
        joint = await scoped(JointInspection).select().where(JointInspection.id == row["joint"]).first()
        joint["members"] = await scoped(Inspection).select(*COLUMNS).where(
            Inspection.joint == row["joint"]).order_by(Inspection.id)
    return {**row, "joint_inspection": joint, "warning": await warning(row)}
