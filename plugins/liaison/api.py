"""The JSON API of the liaison network at ``/t/<slug>/api/v1/liaison/`` (bearer tokens only):
the companies one may see with their assistants, a company's record, pairing, needs filed as
cases on the company's behalf, visits, and the salon totals per year.  Every body is a struct
below, so the OpenAPI schema describes it and a malformed one is a 400 naming the field."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from core.sdk import READ_ERRORS, WRITE_ERRORS, current_user, login_required, requires
from plugins.liaison import pairing, salons, views, work
from plugins.liaison.access import visible_company, visible_company_ids

# The network's staff, and a company for its own record.
READERS = [requires("liaison.view", roles=("company",))]
Text = Annotated[str, msgspec.Meta(max_length=5000)]


class PairIn(msgspec.Struct):
    """A pairing (结对): the company (id or credit code), its assistant (id or username), and the
    reason when it replaces another assistant."""

    company: int | str
    assistant: int | str
    reason: str | None = None


class NeedIn(msgspec.Struct, kw_only=True):
    """A company's need (诉求): a title (required), what it is about, and how it came in."""

    title: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    description: Text | None = None
    channel: str | None = None  # form, call or visit (an assistant's entry; "call" otherwise)


class FileIn(msgspec.Struct, kw_only=True):
    """Filing a need as a case: the category of the dispatch catalogue (code or id)."""

    category: str | int | None = None


class AnswerIn(msgspec.Struct, kw_only=True):
    """Answering a need directly (at most 5,000 characters)."""

    answer: str | None = None


class VisitIn(msgspec.Struct, kw_only=True):
    """A visit or call (走访): the day (required), who was met, the topics, and a follow-up with its due date."""

    visited_on: date | None = None
    kind: str | None = None  # visit or call
    people: Annotated[str, msgspec.Meta(max_length=300)] | None = None
    topics: Text | None = None
    follow_up: Text | None = None
    follow_up_due: date | None = None


def _fields(body: msgspec.Struct | None, *blank: object) -> dict:
    """The fields a body set, as plain values (the shape the forms give); `blank` values count as unset."""
    unset = (None, *blank)
    return {k: v for k, v in msgspec.to_builtins(body).items() if v not in unset} if body else {}


class LiaisonApi(Controller):
    path = "/"
    guards = [login_required]

    @get("/companies", summary="The companies you may see, with their assistant and last visit", responses=READ_ERRORS,
         guards=READERS)
    async def companies(self, request: Request) -> list[dict]:
        return await views.companies_of(await visible_company_ids(current_user(request)))

    @get("/companies/{company_id:int}", summary="A company's assistant, pairing history, needs, visits and cases",
         responses=READ_ERRORS)
    async def company(self, request: Request, company_id: FromPath[int]) -> dict:
        company = await visible_company(current_user(request), company_id)
        data = await views.company_page(company_id)
        return {"id": company.id, "name": company.name, "credit_code": company.credit_code, **data}

    @post("/pairings", status_code=201, summary="Pair a company (id or credit code) with an assistant "
                                                 "(id or username); a reassignment needs a reason",
          responses=WRITE_ERRORS)
    async def pair(self, request: Request, data: JSONBody[PairIn]) -> dict:
        row = await pairing.pair(current_user(request), await views.company_ref(data.company),
                                 await views.user_ref(data.assistant), data.reason or "")
        return {"company": row.company, "assistant": row.assistant}

    @post("/companies/{company_id:int}/needs", status_code=201, summary="Record a company's need (title, "
                                                                         "description, channel)",
          responses=WRITE_ERRORS)
    async def need(self, request: Request, company_id: FromPath[int], data: JSONBody[NeedIn | None] = None) -> dict:
        need = await work.record_need(current_user(request), company_id, _fields(data))
        return {"id": need.id, "status": need.status, "channel": need.channel, "assistant": need.assistant}

    @post("/needs/{need_id:int}/file", status_code=201, summary="The assistant files the need as a case "
                                                                 "on the company's behalf (category)",
          responses=WRITE_ERRORS)
    async def file(self, request: Request, need_id: FromPath[int], data: JSONBody[FileIn | None] = None) -> dict:
        case = await work.file_need(current_user(request), need_id, str(data and data.category or ""))
        return {"id": case.id, "number": case.number, "status": case.status, "on_behalf": case.on_behalf}

    @post("/needs/{need_id:int}/answer", status_code=200, summary="The assistant answers the need directly",
          responses=WRITE_ERRORS)
    async def answer(self, request: Request, need_id: FromPath[int], data: JSONBody[AnswerIn | None] = None) -> dict:
        need = await work.answer_need(current_user(request), need_id, data and data.answer or "")
        return {"id": need.id, "status": need.status}

    @post("/companies/{company_id:int}/visits", status_code=201, summary="Log a visit or call (visited_on, kind, "
                                                                          "people, topics, follow_up, follow_up_due)",
          responses=WRITE_ERRORS)
    async def visit(self, request: Request, company_id: FromPath[int], data: JSONBody[VisitIn | None] = None) -> dict:
        visit = await work.log_visit(current_user(request), company_id, _fields(data, ""))
        return {"id": visit.id, "visited_on": visit.visited_on}

    @get("/salons/totals", summary="Salons, sign-ups and attendances per year", responses=READ_ERRORS, guards=READERS)
    async def totals(self) -> list[dict]:
        return await salons.totals_per_year()
