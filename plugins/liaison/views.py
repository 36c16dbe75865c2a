"""What the pages show: the assistant's workbench, a company's page, the township's network view
(who covers whom, load per assistant, companies not visited in N days) and the dashboard widget."""

from __future__ import annotations

from datetime import timedelta

from core.sdk import (
    Case,
    Company,
    User,
    UserError,
    load_calendar,
    local_date,
    members_with_role,
    scoped,
    tenant_setting,
    today,
)
from plugins.liaison import pairing, salons
from plugins.liaison.access import ASSISTANT, visible_company_ids
from plugins.liaison.tables import Consultation, FollowUp, Message, Need, Pairing, Person, VillageNeed, Visit

CASE_COLUMNS = (Case.id, Case.number, Case.title, Case.status, Case.due_date, Case.due_confirmed, Case.overdue,
                Case.on_behalf, Case.company.name.as_alias("company_name"),
                Case.submitted_by.display_name.as_alias("submitted_by_name"))


async def _last_visits(company_ids: list[int] | None) -> dict[int, object]:
    query = scoped(Visit).select(Visit.company, Visit.visited_on)
    if company_ids is not None:
        query = query.where(Visit.company.is_in(company_ids or [-1]))
    last: dict[int, object] = {}
    for row in await query:
        if row["company"] not in last or row["visited_on"] > last[row["company"]]:
            last[row["company"]] = row["visited_on"]
    return last


async def companies_of(company_ids: list[int] | None) -> list[dict]:
    query = scoped(Company).select(Company.id, Company.name, Company.credit_code, Company.industry,
                                   Company.liaison_name).order_by(Company.id)
    if company_ids is not None:
        query = query.where(Company.id.is_in(company_ids or [-1]))
    rows = await query
    last = await _last_visits(company_ids)
    pairs = {r["company"]: r["assistant_name"] for r in await scoped(Pairing).select(
        Pairing.company, Pairing.assistant.display_name.as_alias("assistant_name"))}
    for row in rows:
        row["last_visit"], row["assistant_name"] = last.get(row["id"]), pairs.get(row["id"], "")
    return rows


async def workbench(user) -> dict:
    ids = await visible_company_ids(user)
    mine = ids if ids is not None else None
    needs = scoped(Need).select(Need.id, Need.title, Need.channel, Need.status, Need.created_at, Need.company,
                                Need.company.name.as_alias("company_name")).where(Need.status == "open")
    follow = scoped(FollowUp).select(FollowUp.id, FollowUp.text, FollowUp.due_on, FollowUp.company,
                                     FollowUp.company.name.as_alias("company_name")).where(FollowUp.done == False)  # noqa: E712
    cases = scoped(Case).select(*CASE_COLUMNS)
    if mine is not None:
        needs, follow = needs.where(Need.company.is_in(mine or [-1])), follow.where(FollowUp.company.is_in(mine or [-1]))
        cases = cases.where(Case.company.is_in(mine or [-1]))
    return {"companies": await companies_of(mine) if mine is not None else [],
            "needs": await needs.order_by(Need.id, ascending=False).limit(100),
            "follow_ups": await follow.order_by(FollowUp.due_on).limit(100),
            "cases": await cases.order_by(Case.id, ascending=False).limit(100) if mine is not None else [],
            "today": today()}


async def company_page(company_id: int) -> dict:
    pair = await scoped(Pairing).select(Pairing.assistant, Pairing.assistant.display_name.as_alias("name"),
                                        Pairing.assistant.email.as_alias("email")).where(
        Pairing.company == company_id).first()
    return {
        "assistant": pair,
        "history": await pairing.history(company_id),
        "needs": await scoped(Need).select(Need.id, Need.title, Need.description, Need.channel, Need.status,
                                           Need.answer, Need.case, Need.case.number.as_alias("case_number"),
                                           Need.created_at).where(Need.company == company_id).order_by(
            Need.id, ascending=False),
        "visits": await scoped(Visit).select(Visit.id, Visit.kind, Visit.visited_on, Visit.people, Visit.topics).where(
            Visit.company == company_id).order_by(Visit.visited_on, ascending=False),
        "follow_ups": await scoped(FollowUp).select(FollowUp.id, FollowUp.text, FollowUp.due_on, FollowUp.done,
                                                    FollowUp.case, FollowUp.case.number.as_alias("case_number")).where(
            FollowUp.company == company_id).order_by(FollowUp.due_on),
        "cases": await scoped(Case).select(*CASE_COLUMNS).where(Case.company == company_id).order_by(
            Case.id, ascending=False).limit(100),
        "messages": await scoped(Message).select(
            Message.id, Message.body, Message.sent_at, Message.reply, Message.replied_at,
            Message.sender.display_name.as_alias("sender_name"),
            Message.replied_by.display_name.as_alias("replied_by_name")).where(
            Message.company == company_id).order_by(Message.id, ascending=False),
        "consultations": await scoped(Consultation).select(
            Consultation.id, Consultation.field, Consultation.question, Consultation.status, Consultation.due_on,
            Consultation.answer).where(Consultation.company == company_id).order_by(Consultation.id, ascending=False),
        "today": today(),
    }


async def network() -> dict:
    days = int(tenant_setting("liaison_unvisited_days", 30) or 30)
    assistants = await members_with_role(ASSISTANT)
    names = {r["id"]: r["display_name"] for r in await User.select(User.id, User.display_name).where(
        User.id.is_in(assistants or [-1]))}
    companies = await companies_of(None)
    by_id = {c["id"]: c for c in companies}
    load = {a: [] for a in assistants}
    for row in await scoped(Pairing).select(Pairing.company, Pairing.assistant):
        if row["company"] in by_id:
            load.setdefault(row["assistant"], []).append(by_id[row["company"]])
    since = today() - timedelta(days=days)
    paired = {c["id"] for group in load.values() for c in group}
    return {
        "assistants": sorted(({"id": a, "name": names.get(a, str(a)), "companies": load[a]} for a in load),
                              key=lambda a: (-len(a["companies"]), a["name"])),
        "unpaired": await pairing.unpaired(),
        "unvisited": [c for c in companies if c["id"] in paired and (c["last_visit"] is None or c["last_visit"] < since)],
        "days": days,
        "people": await people_with_counts(),
    }


async def people_with_counts() -> list[dict]:
    """The network's people with their work: a runner's village needs logged, handed over and filed
    (counted by their login); an expert's consultations open, overdue and answered."""
    people = await scoped(Person).select().order_by(Person.kind, Person.id)
    village: dict[tuple[int, str], int] = {}
    for r in await scoped(VillageNeed).select(VillageNeed.runner, VillageNeed.status):
        village[(r["runner"], r["status"])] = village.get((r["runner"], r["status"]), 0) + 1
    asked: dict[tuple[int, str], int] = {}
    for r in await scoped(Consultation).select(Consultation.expert, Consultation.status, Consultation.due_on):
        key = "overdue" if r["status"] == "open" and r["due_on"] < today() else r["status"]
        asked[(r["expert"], key)] = asked.get((r["expert"], key), 0) + 1
        if key == "overdue":
            asked[(r["expert"], "open")] = asked.get((r["expert"], "open"), 0) + 1
    for p in people:
        if p["kind"] == "runner":
            p["counts"] = {k: village.get((p["user"], k), 0) if p["user"] else 0 for k in ("logged", "handed", "filed")}
        else:
            p["counts"] = {k: asked.get((p["id"], k), 0) for k in ("open", "overdue", "answered")}
    return people


async def widget(tenant, user) -> dict:
    """Companies covered, visits this month, cases via assistants and their average working days,
    salons and attendance this year."""
    start = today().replace(day=1)
    assistants = await members_with_role(ASSISTANT)
    via = await scoped(Case).select(Case.submitted_at, Case.resolved_at).where(
        (Case.on_behalf == True) & Case.submitted_by.is_in(assistants or [-1]))  # noqa: E712
    done = [c for c in via if c["resolved_at"] is not None]
    average = None
    if done:
        calendar = await load_calendar()
        average = round(sum(max(0, calendar.working_days_between(local_date(c["submitted_at"]),
                                                                  local_date(c["resolved_at"])))
                            for c in done) / len(done), 1)
    year = next((t for t in await salons.totals_per_year() if t["year"] == today().year), None)
    return {"covered": await scoped(Pairing).count(), "companies": await scoped(Company).count(),
            "visits": await scoped(Visit).count().where(Visit.visited_on >= start),
            "cases": len(via), "average_days": average,
            "salons": year["salons"] if year else 0, "attended": year["attended"] if year else 0}


# -- the API's references: a company by id or credit code, an assistant by id or username ----------

async def company_ref(value: int | str) -> int:
    """A company's id from its id or its unified social credit code (400 when there is none)."""
    if isinstance(value, int):
        return value
    row = await scoped(Company).select(Company.id).where(Company.credit_code == value.upper()).first()
    if row is None:
        raise UserError(400, "Unknown company: %(credit_code)s.", code="unknown_company", credit_code=value)
    return row["id"]


async def user_ref(value: int | str) -> int:
    """A user's id from their id or their username (400 when there is none)."""
    if isinstance(value, int):
        return value
    row = await User.select(User.id).where(User.username == value).first()
    if row is None:
        raise UserError(400, "Choose a cadre assistant of this tenant.", code="not_an_assistant")
    return row["id"]
