"""The city's league table of its districts (市级排行榜): totals, the 亲清 index and every district's
figures, sortable; each district opens on the city's big screen.  Only a city has this page."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get
from litestar.params import QueryParameter

from core.errors import UserError
from core.oversight.city import DEFAULT_SORT, LEAGUE_SORTS, overview
from web.rendering import page, requires, tenant_of


class CityPages(Controller):
    path = "/t/{tenant:str}/city"
    include_in_schema = False  # pages; the OpenAPI schema documents the JSON API (figures)
    guards = [requires("screen.view")]

    @get("/", name="city_league")
    async def league(self, request: Request, by: Annotated[str, QueryParameter(name="sort")] = DEFAULT_SORT) -> object:
        tenant = tenant_of(request)
        if tenant.kind != "city":
            raise UserError(404, "Not found.")
        by = by if by in LEAGUE_SORTS else DEFAULT_SORT
        data = await overview(tenant, by)
        return page(request, "oversight/city.html", totals=data["figures"].total.as_dict(), index=data["index"],
                    league=data["league"], by=by, sorts=LEAGUE_SORTS)
