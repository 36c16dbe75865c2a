"""The figures of the module (its page, the dashboard widget and the export): inspections per
company per year (a joint inspection counts once as a visit), joint inspections, outcomes by
kind, contested outcomes."""

from __future__ import annotations

from collections import Counter, defaultdict

from core.sdk import scoped, today
from plugins.enforcement import findings, inspections
from plugins.enforcement.labels import OUTCOMES
from plugins.enforcement.tables import Finding, Inspection, JointInspection


async def figures(year: int | None = None) -> dict:
    inspections = await scoped(Inspection).select(
        Inspection.id, Inspection.company, Inspection.company.name.as_alias("company_name"), Inspection.department,
        Inspection.planned_on, Inspection.joint, Inspection.status).where(Inspection.status != "cancelled")
    joints = await scoped(JointInspection).select(JointInspection.id, JointInspection.planned_on)
    findings = await scoped(Finding).select(Finding.outcome, Finding.status, Finding.contest_case,
                                            Finding.contested_at, Finding.created_at)
    years = sorted({r["planned_on"].year for r in inspections} | {today().year}, reverse=True)
    per_company: dict[tuple[int, int], dict] = {}
    members: dict[int, int] = Counter(r["joint"] for r in inspections if r["joint"])
    for r in inspections:
        key = (r["planned_on"].year, r["company"])
        entry = per_company.setdefault(key, {"year": key[0], "company": r["company"], "company_name": r["company_name"],
                                             "inspections": 0, "visits": set(), "departments": set()})
        entry["inspections"] += 1
        entry["visits"].add(("joint", r["joint"]) if r["joint"] and members[r["joint"]] > 1 else ("own", r["id"]))
        entry["departments"].add(r["department"])
    rows = sorted(({**e, "visits": len(e["visits"]), "departments": len(e["departments"])}
                   for e in per_company.values()), key=lambda e: (-e["year"], -e["inspections"], e["company_name"]))
    by_year: dict[int, dict] = defaultdict(lambda: {"inspections": 0, "visits": 0, "companies": 0, "joint": 0,
                                                    "joined": 0})
    for e in rows:
        y = by_year[e["year"]]
        y["inspections"] += e["inspections"]
        y["visits"] += e["visits"]
        y["companies"] += 1
    for j in joints:
        if members[j["id"]] > 1:
            by_year[j["planned_on"].year]["joint"] += 1
            by_year[j["planned_on"].year]["joined"] += members[j["id"]]
    outcomes = Counter(f["outcome"] for f in findings if f["status"] == "final")
    return {
        "years": years,
        "by_year": {y: dict(by_year[y]) for y in years},
        "per_company": [e for e in rows if year is None or e["year"] == year],
        "repeated": sum(1 for e in rows if e["inspections"] > 1 and (year is None or e["year"] == year)),
        "outcomes": {k: outcomes.get(k, 0) for k in OUTCOMES},
        "awaiting_signoff": sum(1 for f in findings if f["status"] == "awaiting_signoff"),
        "findings": len(findings),
        "contested": sum(1 for f in findings if f["contested_at"] is not None),
        "joint": sum(1 for j in joints if members[j["id"]] > 1),
    }


async def widget() -> dict:
    data = await figures(today().year)
    this_year = data["by_year"][today().year]
    return {"year": today().year, **this_year, "outcomes": data["outcomes"], "contested": data["contested"],
            "awaiting_signoff": data["awaiting_signoff"], "outcome_labels": OUTCOMES}


async def inspection_detail(user, inspection_id: int) -> dict:
    """An inspection as its page and the API show it: the warning, the joint inspection, the findings."""
    return {**await inspections.detail(user, inspection_id), "findings": await findings.findings_of(inspection_id)}
