"""The JSON API of the liaison network at ``/t/<slug>/api/v1/liaison/`` (bearer tokens only):
the companies one may see with their assistants, a company's record, pairing, needs filed as
cases on the company's behalf, visits, and the salon totals per year.  Every body is a struct
below, so the OpenAPI schema describes it and a malformed one is a 400 naming the field."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from core.sdk import READ_ERRORS, WRITE_ERRORS, current_user, login_required, requires
from plugins.liaison import consult, inbox, pairing, salons, views, village, work
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


class VillageNeedIn(msgspec.Struct, kw_only=True):
    """A need a village runner met (村社助跑员): the company (id or credit code), what it needs
    (required), where, and details."""

    company: int | str | None = None
    title: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    place: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    description: Text | None = None


class ConsultationIn(msgspec.Struct, kw_only=True):
    """A consultation (咨询) for the industry experts: the company (id or credit code; a company
    user's own by default), the field (investment, setup, incubation, talent or one of the tenant's
    own) and the question."""

    company: int | str | None = None
    field: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    question: Text | None = None


class MessageIn(msgspec.Struct, kw_only=True):
    """A message to the company liaison, or the liaison's reply (at most 5,000 characters)."""

    body: Text | None = None


class CaseIn(msgspec.Struct, kw_only=True):
    """A case the company liaison files for the company: category (code), title and description."""

    category: str | None = None
    title: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    description: Text | None = None


async def _company(value: int | str | None) -> int | None:
    return None if value in (None, "") else await views.company_ref(value)


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

    # -- village runners, consultations, the company liaison --------------------------------------

    @post("/village-needs", status_code=201, summary="A village runner logs a company's need (company, title, place)",
          responses=WRITE_ERRORS, guards=[requires("liaison.run")])
    async def village_need(self, request: Request, data: JSONBody[VillageNeedIn | None] = None) -> dict:
        fields = _fields(data, "")
        fields["company"] = await _company(fields.get("company"))
        row = await village.log_need(current_user(request), fields)
        return {"id": row.id, "status": row.status, "company": row.company}

    @get("/village-needs", summary="The runner's village needs (status: logged, handed or filed)",
         responses=READ_ERRORS, guards=[requires("liaison.run")])
    async def village_needs(self, request: Request, status: FromQuery[str] = "") -> list[dict]:
        return await village.needs(current_user(request), status)

    @post("/village-needs/{need_id:int}/hand-over", status_code=200, summary="Hand the need to the company's "
                                                                            "assistant (once)",
          responses=WRITE_ERRORS, guards=[requires("liaison.run")])
    async def hand_over(self, request: Request, need_id: FromPath[int]) -> dict:
        need = await village.hand_over(current_user(request), need_id)
        return {"id": need_id, "status": "handed", "need": need.id, "assistant": need.assistant}

    @post("/village-needs/{need_id:int}/file", status_code=201, summary="File the need as a case on the "
                                                                         "company's behalf (category)",
          responses=WRITE_ERRORS, guards=[requires("liaison.run")])
    async def village_file(self, request: Request, need_id: FromPath[int], data: JSONBody[FileIn | None] = None) -> dict:
        case = await village.file(current_user(request), need_id, str(data and data.category or ""))
        return {"id": case.id, "number": case.number, "status": case.status, "on_behalf": case.on_behalf}

    @get("/consultations", summary="Consultations you may see (show: open or overdue, an expert's own)",
         responses=READ_ERRORS, guards=READERS)
    async def consultations(self, request: Request, show: FromQuery[str] = "") -> list[dict]:
        return await consult.listing(current_user(request), show if show in ("open", "overdue") else "")

    @post("/consultations", status_code=201, summary="Ask the experts (company, field, question); routed by field, "
                                                      "due in working days",
          responses=WRITE_ERRORS, guards=READERS)
    async def ask(self, request: Request, data: JSONBody[ConsultationIn | None] = None) -> dict:
        user = current_user(request)
        fields = _fields(data, "")
        company = await _company(fields.get("company"))
        if company is None and user.has_role("company"):
            own = await visible_company_ids(user) or []
            company = own[0] if len(own) == 1 else None
        fields["company"] = company
        row = await consult.ask(user, fields)
        return {"id": row.id, "status": row.status, "field": row.field, "expert": row.expert,
                "due_on": row.due_on.isoformat()}

    @post("/consultations/{consultation_id:int}/answer", status_code=200, summary="The routed expert answers (once)",
          responses=WRITE_ERRORS, guards=[requires("liaison.lead")])
    async def answer_consultation(self, request: Request, consultation_id: FromPath[int],
                                  data: JSONBody[AnswerIn | None] = None) -> dict:
        return await consult.answer(current_user(request), consultation_id, data and data.answer or "")

    @post("/companies/{company_id:int}/messages", status_code=201, summary="The assistant writes to the company "
                                                                            "liaison",
          responses=WRITE_ERRORS)
    async def message(self, request: Request, company_id: FromPath[int], data: JSONBody[MessageIn | None] = None) -> dict:
        row = await inbox.send(current_user(request), company_id, _fields(data, ""))
        return {"id": row.id, "company": row.company}

    @get("/inbox", summary="The company liaison's messages and the assistant's visits", responses=READ_ERRORS,
         guards=[requires("portal.view")])
    async def liaison_inbox(self, request: Request, show: FromQuery[str] = "") -> dict:
        return await inbox.inbox(current_user(request), show == "unreplied")

    @post("/messages/{message_id:int}/reply", status_code=200, summary="The company liaison replies (once)",
          responses=WRITE_ERRORS, guards=[requires("portal.view")])
    async def reply(self, request: Request, message_id: FromPath[int], data: JSONBody[MessageIn | None] = None) -> dict:
        return await inbox.reply(current_user(request), message_id, _fields(data, ""))

    @post("/inbox/{company_id:int}/cases", status_code=201, summary="The company liaison files a case for the "
                                                                     "company",
          responses=WRITE_ERRORS, guards=[requires("portal.view")])
    async def liaison_file(self, request: Request, company_id: FromPath[int], data: JSONBody[CaseIn | None] = None) -> dict:
        case = await inbox.file(current_user(request), company_id, _fields(data, ""))
        return {"id": case.id, "number": case.number, "status": case.status, "on_behalf": case.on_behalf}
