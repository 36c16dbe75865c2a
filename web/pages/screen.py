"""The big screen (大屏), refreshed by htmx every few seconds, and the public page (信息公开)."""

from __future__ import annotations

import json
from typing import Annotated

from litestar.params import Parameter
from litestar import Controller, Request, get
from litestar.params import FromQuery
from litestar.response import Template

from core.i18n import N_, gettext
from core.oversight.screen import children_of, payload
from web.rendering import page, page_context, requires, tenant_of

REFRESH_SECONDS = 3
SERIES = {"reported": N_("Reported"), "completed": N_("Completed"), "refused": N_("Refused")}


def island(data: dict) -> str:
    """The figures as JSON for a `<script type="application/json">` data island (safe against `</`)."""
    labels = {k: gettext(v) for k, v in SERIES.items()}
    return json.dumps({**data, "labels": labels}, ensure_ascii=False).replace("</", "<\\/")


class ScreenPages(Controller):
    path = "/t/{tenant:str}/screen"
    guards = [requires("screen.view")]

    @get("/", name="screen")
    async def screen(self, request: Request, area: Annotated[str, Parameter(query="scope")] = "") -> Template:
        tenant = tenant_of(request)
        data = await payload(tenant, area)
        return Template("screen/screen.html", media_type="text/html", context={
            **page_context(request), "data": data, "data_json": island(data),
            "children": await children_of(tenant), "scope": area, "refresh": REFRESH_SECONDS})

    @get("/live", name="screen_live")
    async def live(self, request: Request, area: Annotated[str, Parameter(query="scope")] = "") -> object:
        data = await payload(tenant_of(request), area)
        return page(request, "screen/_live.html", data=data, data_json=island(data),
                    scope=area, refresh=REFRESH_SECONDS)


class PublicPage(Controller):
    """Aggregates only: no company or staff name ever appears here."""

    path = "/t/{tenant:str}/public"
    opt = {"public": True}

    @get("/", name="public")
    async def public(self, request: Request) -> object:
        data = await payload(tenant_of(request), "")
        public = {key: data["totals"][key] for key in (
            "reported", "completed", "in_progress", "refused", "overturned", "response_rate", "resolution_rate",
            "satisfaction_rate", "avg_days")}
        months = [{k: m[k] for k in ("month", "reported", "completed", "refused", "satisfaction_rate")}
                  for m in data["months"]]
        from core.oversight.policies import adopted_policies

        return page(request, "screen/public.html", figures=public, months=months, definitions=data["definitions"],
                    policies=await adopted_policies())
