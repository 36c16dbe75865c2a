"""The visit log's JSON API under ``/t/<slug>/api/v1/visits/`` (bearer tokens; 404 where the
tenant has not enabled the plugin).  The body is a msgspec struct, so the OpenAPI schema
describes it and a malformed one is a 400 naming the field."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import FromQuery, JSONBody

from core.sdk import READ_ERRORS, WRITE_ERRORS, current_user, requires
from qinqing_visits import service


class VisitApi(Controller):
    path = "/"
    tags = ["visits"]

    @get("/visits", summary="The tenant's company visits, newest first", guards=[requires("visits.view")],
         responses=READ_ERRORS)
    async def visits(self, status: FromQuery[str] = "") -> list[service.VisitOut]:
        return await service.rows(status)

    @post("/visits", summary="Log a visit made to a company (credit code, day, note)",
          guards=[requires("visits.record")], responses=WRITE_ERRORS)
    async def record(self, request: Request, data: JSONBody[service.VisitIn]) -> service.VisitOut:
        return await service.record(current_user(request), data)
