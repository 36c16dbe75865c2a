"""The daily job (被催着办): the government chases itself and the company.

- 容缺: each material still missing is chased with the company once a day until it is in; when
  the commitment's due date passes, it is flagged once to the department's officers and the helper.
- Next steps: the owner (the company, the helper or the department's officers) is reminded once
  on the working day before the due day (or on it); a step still open on the first working day
  after its due day has slipped and is escalated once to the helper and the department's leaders.

Idempotent: each reminder, chase and flag is stamped with its day, so a second run does nothing.
"""

from __future__ import annotations

from datetime import date

from core.sdk import N_, company_users, gettext, load_calendar, scoped, today
from plugins.approvals.labels import stage_label
from plugins.approvals.record import helper_or_coordinators, leaders, officers, record, tell
from plugins.approvals.tables import Action, Filing, Project, Shortfall

CHASE = N_("Please hand in %(material)s for %(item)s by %(due)s, as committed.")
UNMET = N_("Commitment not met: %(company)s has not handed in %(material)s for %(item)s, due %(due)s.")
REMIND = N_("Due %(due)s: %(text)s (%(project)s)")
SLIPPED = N_("Slipped: %(text)s (%(project)s) was due %(due)s and is not done.")


async def chase_shortfalls(on: date) -> tuple[int, int]:
    rows = await scoped(Shortfall).select(
        Shortfall.id, Shortfall.due_on, Shortfall.chased_on, Shortfall.flagged_on, Shortfall.filing,
        Shortfall.material.name_zh.as_alias("material"), Shortfall.filing.company.as_alias("company"),
        Shortfall.filing.company.name.as_alias("company_name"), Shortfall.filing.project.as_alias("project"),
        Shortfall.filing.item.name_zh.as_alias("item"), Shortfall.filing.department.as_alias("department"),
    ).where(Shortfall.received_on.is_null() & (Shortfall.filing.status == "accepted")).order_by(Shortfall.id)
    helpers = {r["id"]: r["helper"] for r in await scoped(Project).select(Project.id, Project.helper)}
    chased = flagged = 0
    for row in rows:
        link = f"approvals/filings/{row['filing']}"
        if on <= row["due_on"]:
            if row["chased_on"] == on:
                continue
            await tell(await company_users(row["company"]), CHASE, link, material=row["material"], item=row["item"],
                       due=str(row["due_on"]))
            await scoped(Shortfall).update({Shortfall.chased_on: on, Shortfall.chases: Shortfall.chases + 1}).where(
                Shortfall.id == row["id"])
            chased += 1
        elif row["flagged_on"] is None:
            users = set(await officers(row["department"]))
            users |= set(await helper_or_coordinators(helpers.get(row["project"])))
            await tell(users, UNMET, link, company=row["company_name"], material=row["material"], item=row["item"],
                       due=str(row["due_on"]))
            await scoped(Shortfall).update({Shortfall.flagged_on: on}).where(Shortfall.id == row["id"])
            await record("commitment_unmet", None, project=row["project"], filing=row["filing"],
                         material=row["material"], due=row["due_on"])
            flagged += 1
    return chased, flagged


async def _owners(action: dict, helper: int | None, company: int | None) -> list[int]:
    if action["owner"] == "company":
        return list(await company_users(company)) if company else []
    if action["owner"] == "department":
        return await officers(action["department"])
    return await helper_or_coordinators(helper)


async def chase_actions(on: date) -> tuple[int, int]:
    calendar = await load_calendar()
    rows = await scoped(Action).select(
        Action.id, Action.project, Action.filing, Action.kind, Action.text, Action.owner, Action.department,
        Action.due_on, Action.reminded_on, Action.escalated_on,
    ).where(Action.done_on.is_null()).order_by(Action.id)
    projects = {r["id"]: r for r in await scoped(Project).select(Project.id, Project.name, Project.helper,
                                                                 Project.company)}
    filings = {r["id"]: r for r in await scoped(Filing).select(
        Filing.id, Filing.company, Filing.company.name.as_alias("company_name"), Filing.project,
        Filing.department) .where(Filing.id.is_in([r["filing"] for r in rows if r["filing"]] or [0]))}
    reminded = escalated = 0
    for row in rows:
        filing = filings.get(row["filing"]) or {}
        project = projects.get(row["project"] or filing.get("project")) or {}
        helper = project.get("helper")
        company = filing.get("company") or project.get("company")
        name = project.get("name") or filing.get("company_name") or ""
        link = f"approvals/filings/{row['filing']}" if row["filing"] else f"approvals/projects/{row['project']}"
        if row["kind"] == "stage":
            row = {**row, "text": gettext(stage_label(row["text"]))}
        due = row["due_on"]
        if on >= calendar.next_workday(due).date:
            if row["escalated_on"] is None:
                department = row["department"] or filing.get("department")
                users = set(await helper_or_coordinators(helper)) | set(await leaders(department))
                await tell(users, SLIPPED, link, text=row["text"], project=name, due=str(due))
                await scoped(Action).update({Action.escalated_on: on}).where(Action.id == row["id"])
                await record("escalated", None, project=row["project"] or filing.get("project"),
                             filing=row["filing"], text=row["text"], due=due)
                escalated += 1
        elif row["reminded_on"] is None and on <= due and calendar.next_workday(on).date >= due:
            await tell(await _owners(row, helper, company), REMIND, link, text=row["text"], project=name, due=str(due))
            await scoped(Action).update({Action.reminded_on: on}).where(Action.id == row["id"])
            reminded += 1
    return reminded, escalated


async def run_daily(on: date | None = None) -> dict:
    """Run in each tenant that enabled the module (a per-tenant scheduled job)."""
    on = on or today()
    chased, flagged = await chase_shortfalls(on)
    reminded, escalated = await chase_actions(on)
    return {"chased": chased, "flagged": flagged, "reminded": reminded, "escalated": escalated}
