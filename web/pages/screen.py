"""The big screen (大屏), refreshed by htmx every few seconds, and the public page (信息公开)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import date
from typing import Annotated

from litestar import Controller, Request, get
from litestar.params import QueryParameter
from litestar.response import Response, ServerSentEvent, Template
from litestar.response.sse import ServerSentEventMessage

from core.i18n import N_, gettext
from core.oversight.levels import change_marker, payload, scopes_of
from core.plugins import get_plugin_manager
from web.rendering import page, page_context, requires, tenant_of

REFRESH_SECONDS = 3
MODULES_REFRESH_SECONDS = 60  # the modules' figures move by the day, not by the case
SERIES = {"reported": N_("Reported"), "completed": N_("Completed"), "refused": N_("Refused")}
CHART_TEXT = {"to_date": N_("(to date)"), "rate": N_("Resolution rate")}


def month_labels(months: list[dict]) -> list[dict]:
    """Each month with its axis label in the reader's locale (1月 / Jan, with the year when the
    months span more than one) and whether it is the current month, still running (partial)."""
    from babel.dates import format_skeleton

    from core.clock import today
    from core.i18n import current_locale

    current = today().strftime("%Y-%m")
    years = {m["month"][:4] for m in months}
    skeleton = "MMM" if len(years) <= 1 else "yMMM"
    locale = current_locale.get()
    out = []
    for m in months:
        day = date.fromisoformat(f"{m['month']}-01")
        label = format_skeleton(skeleton, day, locale=locale)
        partial = m["month"] == current
        out.append({**m, "label": f"{label}\n{gettext(CHART_TEXT['to_date'])}" if partial else label,
                    "partial": partial})
    return out


def island(data: dict) -> str:
    """The figures as JSON for a `<script type="application/json">` data island (safe against `</`)."""
    labels = {k: gettext(v) for k, v in {**SERIES, **CHART_TEXT}.items()}
    return json.dumps({**data, "months": month_labels(data["months"]), "labels": labels},
                      ensure_ascii=False).replace("</", "<\\/")


async def module_cells(tenant, area: str) -> list[dict]:
    """The cells the tenant's enabled modules add to its big screen (qinqing_screen_widgets), each
    with its loaded figures; only on the tenant's own scope, not a township's or the roll-up."""
    if area and area != tenant.slug:
        return []
    return [{"key": w.key, "title": w.title, "template": w.template, "data": await w.load(tenant, None)}
            for w in get_plugin_manager().screen_widgets(tenant)]


def updated_at() -> str:
    """The time of this figures' reading, as the screen's header shows it."""
    from core.clock import TZ, now

    return now().astimezone(TZ).strftime("%H:%M:%S")


class ScreenPages(Controller):
    path = "/t/{tenant:str}/screen"
    include_in_schema = False  # pages; the OpenAPI schema documents the JSON API
    guards = [requires("screen.view")]

    @get("/", name="screen")
    async def screen(self, request: Request, area: Annotated[str, QueryParameter(name="scope")] = "") -> Template:
        tenant = tenant_of(request)
        data = await payload(tenant, area)
        return Template("screen/screen.html", media_type="text/html", context={
            **page_context(request), "data": data, "data_json": island(data), "updated": updated_at(),
            "children": await scopes_of(tenant), "scope": area, "refresh": REFRESH_SECONDS,
            "modules": await module_cells(tenant, area), "modules_refresh": MODULES_REFRESH_SECONDS})

    @get("/live", name="screen_live")
    async def live(self, request: Request, area: Annotated[str, QueryParameter(name="scope")] = "") -> object:
        data = await payload(tenant_of(request), area)
        return page(request, "screen/_live.html", data=data, data_json=island(data), updated=updated_at(),
                    scope=area, refresh=REFRESH_SECONDS)

    @get("/modules", name="screen_modules")
    async def modules(self, request: Request, area: Annotated[str, QueryParameter(name="scope")] = "") -> object:
        """The modules' cells alone, refreshed less often than the case figures."""
        return page(request, "screen/_modules.html", modules=await module_cells(tenant_of(request), area),
                    scope=area, modules_refresh=MODULES_REFRESH_SECONDS)


STREAM_SECONDS = 600


@get("/t/{tenant:str}/screen/stream", name="screen_stream", guards=[requires("screen.view")],
     opt={"no_transaction": True}, include_in_schema=False)
async def screen_stream(request: Request, area: Annotated[str, QueryParameter(name="scope")] = "") -> ServerSentEvent:
    """Server-sent events: `figures` whenever the scope's record moves, checked every second.
    The open screen refreshes on it (and polls as a fallback); the stream ends after ten minutes
    and the browser reconnects."""
    tenant = tenant_of(request)

    async def events():
        last = await change_marker(tenant, area)
        yield ServerSentEventMessage(event="ready", data=last)
        deadline = time.monotonic() + STREAM_SECONDS
        while time.monotonic() < deadline:
            await asyncio.sleep(1)
            marker = await change_marker(tenant, area)
            if marker != last:
                last = marker
                yield ServerSentEventMessage(event="figures", data=marker)

    return ServerSentEvent(events())


class PublicPage(Controller):
    """Aggregates only: no company or staff name ever appears here."""

    path = "/t/{tenant:str}/public"
    include_in_schema = False  # pages; the OpenAPI schema documents the JSON API
    opt = {"public": True}

    @get("/", name="public")
    async def public(self, request: Request) -> object:
        data = await payload(tenant_of(request), "")
        public = {key: data["totals"][key] for key in (
            "reported", "completed", "in_progress", "refused", "overturned", "response_rate", "resolution_rate",
            "satisfaction_rate", "avg_days")}
        months = [{k: m[k] for k in ("month", "reported", "completed", "refused", "satisfaction_rate")}
                  for m in data["months"]]
        from core.cases.anchors import PUBLISHED_ON_PAGE, published
        from core.oversight.policies import adopted_policies

        tenant = tenant_of(request)
        sections = [(section, await section.load(tenant, None))  # plugins' public sections (e.g. 公示)
                    for section in get_plugin_manager().public_sections(tenant)]
        return page(request, "screen/public.html", figures=public, months=months, definitions=data["definitions"],
                    since_launch=data.get("since_launch"),
                    policies=await adopted_policies(), anchors=await published(PUBLISHED_ON_PAGE), sections=sections)

    @get("/anchors.json", name="public_anchors")
    async def anchors(self, request: Request) -> Response:
        """Every signed chain head (存证) with its public key, to be saved and checked later
        (`qinqing audit verify --anchors anchors.json`)."""
        from core.cases.anchors import published

        return Response(await published(), media_type="application/json", headers={
            "Content-Disposition": 'attachment; filename="anchors.json"'})
