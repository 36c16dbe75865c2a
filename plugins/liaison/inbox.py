"""The company liaison's side (企业联络员): the assistant's visits to their company and messages for
it, each message answered once by the liaison (a conditional update: a second reply is a 409);
the liaison may also file a case for the company (``submit_case``, the company's own filing).
Only the company's named liaison (``liaison_company_ids``) has this page; the assistant writes
the messages from the company's page and reads the replies there."""

from __future__ import annotations

from typing import Annotated

import msgspec

from core.sdk import (
    N_,
    Case,
    Company,
    UserError,
    company_users,
    liaison_company_ids,
    notify,
    now,
    parse,
    scoped,
    submit_case,
)
from plugins.liaison.access import require_assistant_of, visible_company
from plugins.liaison.tables import Message, Visit

NEW_MESSAGE = N_("Your assistant wrote to you: %(text)s")
REPLIED = N_("The company liaison replied: %(text)s")
Body = Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
COLUMNS = (Message.id, Message.body, Message.sent_at, Message.reply, Message.replied_at, Message.company,
           Message.company.name.as_alias("company_name"), Message.sender.display_name.as_alias("sender_name"),
           Message.replied_by.display_name.as_alias("replied_by_name"))


class MessageForm(msgspec.Struct):
    body: Body


class FilingForm(msgspec.Struct):
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    description: Annotated[str, msgspec.Meta(max_length=5000)] = ""


async def require_liaison(user, company_id: int | None = None) -> list[int]:
    """The companies whose liaison `user` is (403 if none; 404 for a company not among them)."""
    ids = await liaison_company_ids(user.id) if user.has_role("company") else []
    if not ids:
        raise UserError(403, "Only a company's named liaison can do this.")
    if company_id is not None and company_id not in ids:
        raise UserError(404, "Not found.")
    return ids


async def send(user, company_id: int, data: dict) -> Message:
    """The company's assistant writes to its liaison."""
    await visible_company(user, company_id)
    await require_assistant_of(user, company_id)
    form = parse(MessageForm, data)
    row = await scoped(Message).add(company=company_id, sender=user.id, body=form.body, sent_at=now())
    for liaison in set(await company_users(company_id)):
        if company_id in await liaison_company_ids(liaison):
            await notify(liaison, "liaison", NEW_MESSAGE, link="liaison/inbox", text=form.body[:100])
    return row


async def messages_of(company_ids: list[int], unreplied: bool = False) -> list[dict]:
    query = scoped(Message).select(*COLUMNS).where(Message.company.is_in(company_ids or [-1]))
    if unreplied:
        query = query.where(Message.replied_at.is_null())
    return await query.order_by(Message.id, ascending=False)


async def count_unreplied(user) -> int:
    ids = await liaison_company_ids(user.id) if user.has_role("company") else []
    return await scoped(Message).count().where(Message.company.is_in(ids or [-1]) & Message.replied_at.is_null())


async def inbox(user, unreplied: bool = False) -> dict:
    """The liaison's page: their companies, the messages (all, or those waiting for a reply) and
    the assistant's visits."""
    ids = await require_liaison(user)
    companies = await scoped(Company).select(Company.id, Company.name, Company.credit_code).where(
        Company.id.is_in(ids)).order_by(Company.id)
    visits = await scoped(Visit).select(Visit.id, Visit.kind, Visit.visited_on, Visit.people, Visit.topics,
                                        Visit.company.name.as_alias("company_name"),
                                        Visit.assistant.display_name.as_alias("assistant_name")).where(
        Visit.company.is_in(ids)).order_by(Visit.visited_on, ascending=False).limit(100)
    return {"companies": companies, "messages": await messages_of(ids, unreplied), "visits": visits}


async def reply(user, message_id: int, data: dict) -> dict:
    row = await scoped(Message).select(Message.id, Message.company, Message.sender).where(
        Message.id == message_id).first()
    if row is None:
        raise UserError(404, "Not found.")
    await require_liaison(user, row["company"])
    form = parse(MessageForm, data)
    won = await scoped(Message).update({Message.reply: form.body, Message.replied_by: user.id,
                                        Message.replied_at: now()}).where(
        (Message.id == message_id) & Message.replied_at.is_null()).returning(Message.id)
    if not won:
        raise UserError(409, "This message has already been answered.", code="already_replied")
    await notify(row["sender"], "liaison", REPLIED, link=f"liaison/companies/{row['company']}", text=form.body[:100])
    return {"id": message_id, "company": row["company"]}


async def file(user, company_id: int, data: dict) -> Case:
    """The liaison files a case for the company (its own filing, under the liaison's name)."""
    await require_liaison(user, company_id)
    form = parse(FilingForm, data)
    company = await scoped(Company).select(Company.credit_code).where(Company.id == company_id).first()
    return await submit_case(user, {"category": form.category, "title": form.title,
                                    "description": form.description or form.title,
                                    "company": company["credit_code"]})


async def thread(company_id: int) -> list[dict]:
    """The company's messages and replies, for its assistant's page."""
    return await messages_of([company_id])

