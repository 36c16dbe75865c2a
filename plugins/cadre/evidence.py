"""The evidence sheet (考察依据) of one cadre for one period, counted from the case record.

Definitions (shown on the sheet):
- handled: cases whose first responder (首问负责人, `Case.handler`) is the cadre, submitted in the
  period (merged duplicates left out);  on time: of those, closed and never overdue;
- average working days: submission to closing of the closed ones, on the working-day calendar;
- refusals filed: refusals (不能办) the cadre filed in the period; upheld / overturned: the review
  verdicts on those refusals;
- satisfaction: "satisfied" and "basically satisfied" ratings / rated cases handled;
- escalations: cases handled that were escalated (提级办理);
- findings: must-investigate inspections (七必查) with the cadre as the person concerned, opened in
  the period; exempted ones (容错免责) and those that found no issue are shown but not counted against.

A township's cadre in its district's campaign (`Cadre.township`) is counted from the township's
own record, read inside the township's scope (the way the district roll-up reads its townships).
"""

from __future__ import annotations

from datetime import date

from core.sdk import (
    N_,
    Case,
    Inspection,
    Refusal,
    Review,
    UserError,
    case_states as S,
    child_tenants,
    in_tenant_scope,
    load_calendar,
    local_date,
    scoped,
)

FIELDS = (
    ("handled", N_("Cases handled")), ("on_time", N_("Closed on time")), ("avg_days", N_("Average working days")),
    ("refusals", N_("Refusals filed")), ("upheld", N_("Refusals upheld on review")),
    ("overturned", N_("Refusals overturned on review")), ("rated", N_("Cases rated")),
    ("satisfied", N_("Satisfied ratings")), ("satisfaction", N_("Satisfaction rate")),
    ("escalated", N_("Escalations")), ("findings", N_("Must-investigate findings")),
    ("findings_exempted", N_("Findings exempted (fault tolerance)")),
    ("findings_no_issue", N_("Findings with no issue")), ("findings_against", N_("Findings counted against")),
)


def _within(value, start: date, end: date) -> bool:
    day = local_date(value)
    return day is not None and start <= day <= end


async def sheet_for(user_id: int, start: date, end: date) -> dict:
    """Every count of the evidence sheet for the user `user_id` over [start, end] (local dates)."""
    calendar = await load_calendar()
    cases = [c for c in await scoped(Case).select(
        Case.id, Case.status, Case.submitted_at, Case.closed_at, Case.overdue, Case.rating, Case.escalated).where(
        (Case.handler == user_id) & (Case.status != S.MERGED)) if _within(c["submitted_at"], start, end)]
    closed = [c for c in cases if c["status"] == S.CLOSED and c["closed_at"]]
    days = [max(0, calendar.working_days_between(local_date(c["submitted_at"]), local_date(c["closed_at"])))
            for c in closed]
    refusals = [r["id"] for r in await scoped(Refusal).select(Refusal.id, Refusal.created_at).where(
        Refusal.filed_by == user_id) if _within(r["created_at"], start, end)]
    verdicts = [r["verdict"] for r in await scoped(Review).select(Review.verdict).where(
        Review.refusal.is_in(refusals) & (Review.status == "ruled"))] if refusals else []
    rated = [c for c in cases if c["rating"]]
    satisfied = sum(1 for c in rated if c["rating"] in ("satisfied", "basically_satisfied"))
    findings = [i for i in await scoped(Inspection).select(
        Inspection.id, Inspection.conclusion, Inspection.opened_at).where(Inspection.subject == user_id)
        if _within(i["opened_at"], start, end)]
    exempted = sum(1 for i in findings if i["conclusion"] == "exempted")
    no_issue = sum(1 for i in findings if i["conclusion"] == "no_issue")
    return {
        "handled": len(cases),
        "on_time": sum(1 for c in closed if not c["overdue"]),
        "avg_days": round(sum(days) / len(days), 2) if days else None,
        "refusals": len(refusals),
        "upheld": verdicts.count("upheld"),
        "overturned": verdicts.count("overturned"),
        "rated": len(rated),
        "satisfied": satisfied,
        "satisfaction": round(satisfied / len(rated), 4) if rated else None,
        "escalated": sum(1 for c in cases if c["escalated"]),
        "findings": len(findings),
        "findings_exempted": exempted,
        "findings_no_issue": no_issue,
        "findings_against": len(findings) - exempted - no_issue,
        "finding_ids": sorted(i["id"] for i in findings),
        "exempted_ids": sorted(i["id"] for i in findings if i["conclusion"] == "exempted"),
    }


async def township_of(slug: str):
    """The township `slug` below the tenant in scope (409 when it is no longer one of them)."""
    child = next((t for t in await child_tenants() if t.slug == slug), None)
    if child is None:
        raise UserError(409, "This cadre's township is no longer part of this district.", code="township")
    return child


async def sheet_of(user_id: int, township: str, start: date, end: date) -> dict:
    """The evidence of a cadre: from this tenant's record, or from their township's, in its scope."""
    if not township:
        return await sheet_for(user_id, start, end)
    async with in_tenant_scope(await township_of(township), write=False):
        return await sheet_for(user_id, start, end)
