"""What the visit log does: record a visit, plan a case's follow-up, flag overdue ones, demo data.

Everything runs in the tenant's scope (a request, an actor's message, the per-tenant job), so
``scoped(Visit)`` is the whole of the tenant filtering.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import msgspec

from core.sdk import Case, Company, CurrentUser, UserError, actor, append_event, scoped, tenant_setting, today
from qinqing_visits.tables import DONE, OVERDUE, PLANNED, Visit


class VisitIn(msgspec.Struct):
    """A visit made: the company's unified social credit code, the day (today when empty), a note."""

    company: Annotated[str, msgspec.Meta(min_length=1, max_length=30)]
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    visited_on: date | None = None


class VisitOut(msgspec.Struct):
    """A visit as the API answers it."""

    id: int
    status: str
    company_name: str
    planned_on: date | None
    visited_on: date | None
    visitor_name: str | None
    case: int | None
    note: str


async def rows(status: str = "", visit_id: int | None = None) -> list[VisitOut]:
    """The tenant's visits, newest first (at most 500): those with `status`, or the one `visit_id`."""
    query = scoped(Visit).select(Visit.id, Visit.status, Visit.planned_on, Visit.visited_on, Visit.note, Visit.case,
                                 Visit.company.name.as_alias("company_name"),
                                 Visit.visitor.display_name.as_alias("visitor_name"))
    if status:
        query = query.where(Visit.status == status)
    if visit_id is not None:
        query = query.where(Visit.id == visit_id)
    return [msgspec.convert(row, VisitOut) for row in await query.order_by(Visit.id, ascending=False).limit(500)]


async def record(user: CurrentUser, data: VisitIn) -> VisitOut:
    """Log a visit made by `user`: it fulfils the company's pending follow-ups (planned or overdue),
    or is a new visit when there are none."""
    code = data.company.strip().upper()
    company = await scoped(Company).select(Company.id).where(Company.credit_code == code).first()
    if company is None:
        raise UserError(400, "No company with this credit code is registered here.", code="unknown_company")
    day = data.visited_on or today()
    if day > today():
        raise UserError(400, "A visit cannot be logged before it happens.", code="future_visit")
    made = {Visit.status: DONE, Visit.visited_on: day, Visit.visitor: user.id, Visit.note: data.note.strip()}
    # A conditional update: of two officers logging at once, one fulfils the follow-up, the other logs anew.
    fulfilled = await scoped(Visit).update(made).where(
        (Visit.company == company["id"]) & Visit.status.is_in([PLANNED, OVERDUE])).returning(Visit.id)
    if fulfilled:
        visit_id = min(row["id"] for row in fulfilled)
    else:
        visit_id = (await scoped(Visit).add(company=company["id"], **{c._meta.name: v for c, v in made.items()})).id
    return (await rows(visit_id=visit_id))[0]


@actor("visits_plan_follow_up")
async def plan_follow_up(case_id: int) -> None:
    """Plan the follow-up visit (回访) of a resolved case, once per case, and note it on its record."""
    case = await scoped(Case).select(Case.id, Case.company).where(Case.id == case_id).first()
    if case is None or case["company"] is None:
        return  # gone, or filed without a company: nobody to visit
    if await scoped(Visit).exists().where(Visit.case == case_id):
        return  # delivered twice, or reopened and resolved again: one follow-up per case
    planned_on = today() + timedelta(days=int(tenant_setting("visits_follow_up_days")))
    await scoped(Visit).add(company=case["company"], case=case_id, status=PLANNED, planned_on=planned_on)
    await append_event(case=case_id, actor=None, actor_role="system", action="visits_follow_up",
                       data={"planned_on": planned_on.isoformat()})


async def flag_overdue() -> int:
    """The nightly job, in one tenant's scope: planned visits whose day has passed become overdue."""
    flagged = await scoped(Visit).update({Visit.status: OVERDUE}).where(
        (Visit.status == PLANNED) & (Visit.planned_on < today())).returning(Visit.id)
    return len(flagged)


async def load_demo() -> None:
    """Demo data: a visit made to each of the tenant's first three companies (once)."""
    if await scoped(Visit).exists():
        return
    companies = await scoped(Company).select(Company.id).order_by(Company.id).limit(3)
    for n, company in enumerate(companies):
        await scoped(Visit).add(company=company["id"], status=DONE, visited_on=today() - timedelta(days=7 * (n + 1)),
                                note="走访了解生产经营情况")
