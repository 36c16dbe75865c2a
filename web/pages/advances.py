"""Advances (先垫资): the tenant's advances awaiting settlement and those settled, for its leaders,
dispatchers and administrators; and the same as JSON."""

from __future__ import annotations

from datetime import date

import msgspec
from litestar import Controller, Request, get
from litestar.params import FromQuery

from core.cases.advances import advances, outstanding, yuan
from core.http import requires
from web.api import READ_ERRORS
from web.rendering import page

PER_PAGE = 50
GUARDS = [requires("advance.manage")]  # leaders, dispatchers, tenant administrators


class AdvancePages(Controller):
    path = "/t/{tenant:str}/advances"
    include_in_schema = False  # pages; the OpenAPI schema documents the JSON API
    guards = GUARDS

    @get("/", name="advances")
    async def index(self, request: Request, settled: FromQuery[bool] = False, page_no: FromQuery[int] = 1) -> object:
        number = max(1, page_no)
        rows, total = await advances(settled, PER_PAGE, (number - 1) * PER_PAGE)
        return page(request, "cases/advances.html", rows=rows, total=total, settled=settled, page_no=number,
                    pages=max(1, -(-total // PER_PAGE)), outstanding=await outstanding(), yuan=yuan)


class AdvanceOut(msgspec.Struct):
    case_id: int
    number: str
    title: str
    amount_fen: int
    authorised_by: str
    work: str
    advanced_on: date
    settled_fen: int | None
    settled_on: date | None
    settled_department: str | None


class AdvancePage(msgspec.Struct):
    items: list[AdvanceOut]
    total: int
    outstanding_count: int
    outstanding_fen: int


class AdvanceApi(Controller):
    path = "/advances"
    tags = ["cases"]
    guards = GUARDS

    @get("/", summary="Advances (先垫资): outstanding (oldest first) or settled, with the outstanding count and sum",
         responses=READ_ERRORS)
    async def index(self, settled: FromQuery[bool] = False, page: FromQuery[int] = 1) -> AdvancePage:
        number = max(1, page)
        rows, total = await advances(settled, PER_PAGE, (number - 1) * PER_PAGE)
        due = await outstanding()
        return AdvancePage(items=[AdvanceOut(
            case_id=r["case"], number=r["number"], title=r["title"], amount_fen=r["amount_fen"],
            authorised_by=r["authorised_by"], work=r["work"], advanced_on=r["advanced_on"],
            settled_fen=r["settled_fen"], settled_on=r["settled_on"], settled_department=r["department_zh"])
            for r in rows], total=total, outstanding_count=due.count, outstanding_fen=due.fen)
