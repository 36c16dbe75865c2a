"""The JSON API of the liaison network at ``/t/<slug>/api/v1/liaison/`` (bearer tokens only):
the companies one may see with their assistants, a company's record, pairing, needs filed as
cases on the company's behalf, visits, and the salon totals per year."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from core.sdk import READ_ERRORS, WRITE_ERRORS, Company, User, UserError, current_user, login_required, scoped
from plugins.liaison import pairing, salons, views, work
from plugins.liaison.access import visible_company, visible_company_ids


async def _company_id(value: Any) -> int:
    if isinstance(value, int):
        return value
    row = await scoped(Company).select(Company.id).where(Company.credit_code == str(value or "").upper()).first()
    if row is None:
        raise UserError(400, "Unknown company: %(credit_code)s.", code="unknown_company", credit_code=str(value))
    return row["id"]


async def _user_id(value: Any) -> int:
    if isinstance(value, int):
        return value
    row = await User.select(User.id).where(User.username == str(value or "")).first()
    if row is None:
        raise UserError(400, "Choose a cadre assistant of this tenant.", code="not_an_assistant")
    return row["id"]


def _body(data: Any) -> dict:
    if not isinstance(data, dict):
        raise UserError(400, "The request body must be a JSON object.", code="invalid")
    return data


class LiaisonApi(Controller):
    path = "/"
    guards = [login_required]

    @get("/companies", summary="The companies you may see, with their assistant and last visit", responses=READ_ERRORS)
    async def companies(self, request: Request) -> list[dict]:
        user = current_user(request)
        if not (user.can("liaison.view") or user.has_role("company")):
            raise UserError(403, "You are not allowed to do this.")
        return await views.companies_of(await visible_company_ids(user))

    @get("/companies/{company_id:int}", summary="A company's assistant, pairing history, needs, visits and cases",
         responses=READ_ERRORS)
    async def company(self, request: Request, company_id: FromPath[int]) -> dict:
        company = await visible_company(current_user(request), company_id)
        data = await views.company_page(company_id)
        return {"id": company.id, "name": company.name, "credit_code": company.credit_code, **data}

    @post("/pairings", status_code=201, summary="Pair a company (id or credit code) with an assistant "
                                                 "(id or username); a reassignment needs a reason",
          responses=WRITE_ERRORS)
    async def pair(self, request: Request, data: JSONBody[dict[str, Any]]) -> dict:
        data = _body(data)
        row = await pairing.pair(current_user(request), await _company_id(data.get("company")),
                                 await _user_id(data.get("assistant")), str(data.get("reason") or ""))
        return {"company": row.company, "assistant": row.assistant}

    @post("/companies/{company_id:int}/needs", status_code=201, summary="Record a company's need (title, "
                                                                         "description, channel)",
          responses=WRITE_ERRORS)
    async def need(self, request: Request, company_id: FromPath[int], data: JSONBody[dict[str, Any]]) -> dict:
        need = await work.record_need(current_user(request), company_id, _body(data))
        return {"id": need.id, "status": need.status, "channel": need.channel, "assistant": need.assistant}

    @post("/needs/{need_id:int}/file", status_code=201, summary="The assistant files the need as a case "
                                                                 "on the company's behalf (category)",
          responses=WRITE_ERRORS)
    async def file(self, request: Request, need_id: FromPath[int], data: JSONBody[dict[str, Any]]) -> dict:
        case = await work.file_need(current_user(request), need_id, str(_body(data).get("category") or ""))
        return {"id": case.id, "number": case.number, "status": case.status, "on_behalf": case.on_behalf}

    @post("/needs/{need_id:int}/answer", status_code=200, summary="The assistant answers the need directly",
          responses=WRITE_ERRORS)
    async def answer(self, request: Request, need_id: FromPath[int], data: JSONBody[dict[str, Any]]) -> dict:
        need = await work.answer_need(current_user(request), need_id, str(_body(data).get("answer") or ""))
        return {"id": need.id, "status": need.status}

    @post("/companies/{company_id:int}/visits", status_code=201, summary="Log a visit or call (visited_on, kind, "
                                                                          "people, topics, follow_up, follow_up_due)",
          responses=WRITE_ERRORS)
    async def visit(self, request: Request, company_id: FromPath[int], data: JSONBody[dict[str, Any]]) -> dict:
        body = {k: v for k, v in _body(data).items() if v not in ("", None)}
        visit = await work.log_visit(current_user(request), company_id, body)
        return {"id": visit.id, "visited_on": visit.visited_on}

    @get("/salons/totals", summary="Salons, sign-ups and attendances per year", responses=READ_ERRORS)
    async def totals(self, request: Request) -> list[dict]:
        user = current_user(request)
        if not (user.can("liaison.view") or user.has_role("company")):
            raise UserError(403, "You are not allowed to do this.")
        return await salons.totals_per_year()
