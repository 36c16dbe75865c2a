"""The visit log's page under ``/t/<slug>/visits/``, in the shared layout: the visits (filtered by
``?status=``) and, for a visit officer, the form that logs one."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import URLEncodedBody
from litestar.response import Redirect, Template

from core.sdk import UserError, current_user, page, plugin_info, requires
from qinqing_visits import service
from qinqing_visits.tables import STATUS_LABELS


class VisitPages(Controller):
    path = "/"

    @get("/", name="visits_home", guards=[requires("visits.view")])
    async def index(self, request: Request) -> Template:
        status = request.query_params.get("status", "")
        status = status if status in STATUS_LABELS else ""
        return page(request, "visits/index.html", rows=await service.rows(status), status=status,
                    statuses=STATUS_LABELS, plugin_info=plugin_info("visits"))

    @post("/", name="visits_record", guards=[requires("visits.record")])
    async def record(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Redirect:
        fields = {k: v for k, v in data.items() if k in ("company", "note", "visited_on") and v.strip()}
        try:
            visit = msgspec.convert(fields, service.VisitIn, strict=False)
        except msgspec.ValidationError:
            raise UserError(400, "Enter the company's credit code and a valid date.", code="invalid_visit") from None
        await service.record(current_user(request), visit)
        return Redirect(path=f"{request.scope['state']['tenant_root']}visits/", status_code=303)
