"""Needs met in the village (村社助跑员): a village runner logs what a company needs and where,
then either hands it to the company's assistant (it becomes one of the assistant's open needs,
channel "village") or files it as a core case on the company's behalf (``submit_case``, the same
path as an assistant's filing).  Either happens once: the status moves from ``logged`` by a
conditional update, and a second attempt — even one arriving at the same moment — is a 409."""

from __future__ import annotations

from typing import Annotated

import msgspec

from core.sdk import N_, Case, Company, UserError, notify, now, parse, scoped, submit_case
from plugins.liaison.access import assistant_of, is_coordinator
from plugins.liaison.tables import Need, VillageNeed

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
NEW_VILLAGE_NEED = N_("A village runner handed you a company's need: %(need)s")
COLUMNS = (VillageNeed.id, VillageNeed.title, VillageNeed.place, VillageNeed.description, VillageNeed.status,
           VillageNeed.created_at, VillageNeed.handled_at, VillageNeed.company, VillageNeed.case,
           VillageNeed.company.name.as_alias("company_name"), VillageNeed.case.number.as_alias("case_number"),
           VillageNeed.runner.display_name.as_alias("runner_name"))


class VillageNeedForm(msgspec.Struct):
    company: int
    title: Title
    place: Annotated[str, msgspec.Meta(max_length=200)] = ""
    description: Annotated[str, msgspec.Meta(max_length=5000)] = ""


def require_runner(user) -> None:
    if not (user.can("liaison.run") or is_coordinator(user)):
        raise UserError(403, "Only a village runner can do this.")


async def companies() -> list[dict]:
    """The tenant's companies a runner may log a need for (any met in the village), by name."""
    return await scoped(Company).select(Company.id, Company.name, Company.credit_code).order_by(Company.name)


async def log_need(user, data: dict) -> VillageNeed:
    require_runner(user)
    form = parse(VillageNeedForm, data)
    if not await scoped(Company).exists().where(Company.id == form.company):
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field="company")
    return await scoped(VillageNeed).add(company=form.company, runner=user.id, title=form.title, place=form.place,
                                         description=form.description, status="logged", created_at=now())


def _mine(query, user):
    return query if is_coordinator(user) else query.where(VillageNeed.runner == user.id)


async def needs(user, status: str = "") -> list[dict]:
    """The runner's needs (a coordinator's: all), newest first; only `status` when given."""
    require_runner(user)
    query = _mine(scoped(VillageNeed).select(*COLUMNS), user)
    if status:
        query = query.where(VillageNeed.status == status)
    return await query.order_by(VillageNeed.id, ascending=False)


async def count_logged(user) -> int:
    """The runner's needs still to hand over or file (the work queue's count)."""
    return await _mine(scoped(VillageNeed).count().where(VillageNeed.status == "logged"), user)


async def _get(user, need_id: int) -> VillageNeed:
    require_runner(user)
    row = await _mine(scoped(VillageNeed).objects().where(VillageNeed.id == need_id), user).first()
    if row is None:
        raise UserError(404, "Not found.")
    return row


async def _claim(need_id: int, status: str) -> None:
    """Move the need from ``logged`` to `status`, or 409 if someone already did (one winner)."""
    won = await scoped(VillageNeed).update({VillageNeed.status: status, VillageNeed.handled_at: now()}).where(
        (VillageNeed.id == need_id) & (VillageNeed.status == "logged")).returning(VillageNeed.id)
    if not won:
        raise UserError(409, "This need has already been handled.", code="need_closed")


async def hand_over(user, need_id: int) -> Need:
    """Hand the need to the company's assistant: one open need of theirs, and a notice."""
    row = await _get(user, need_id)
    assistant = await assistant_of(row.company)
    if assistant is None:
        raise UserError(400, "This company has no assistant yet; file the need as a case instead.",
                        code="no_assistant")
    await _claim(row.id, "handed")
    description = "\n".join(p for p in (row.description, row.place and f"@ {row.place}") if p)
    need = await scoped(Need).add(company=row.company, assistant=assistant, raised_by=user.id, channel="village",
                                  title=row.title, description=description, status="open", created_at=now())
    await scoped(VillageNeed).update({VillageNeed.need: need.id}).where(VillageNeed.id == row.id)
    await notify(assistant, "liaison", NEW_VILLAGE_NEED, link=f"liaison/companies/{row.company}", need=row.title)
    return need


async def file(user, need_id: int, category: str) -> Case:
    """File the need as a core case on the company's behalf (the runner is its submitter)."""
    row = await _get(user, need_id)
    await _claim(row.id, "filed")
    company = await scoped(Company).select(Company.credit_code).where(Company.id == row.company).first()
    description = "\n".join(p for p in (row.description or row.title, row.place and f"@ {row.place}") if p)
    case = await submit_case(user, {"category": category, "title": row.title, "description": description,
                                    "company": company["credit_code"]})
    await scoped(VillageNeed).update({VillageNeed.case: case.id}).where(VillageNeed.id == row.id)
    return case
