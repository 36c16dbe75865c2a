"""The 亲清 index page: the score, every indicator's value, weight and contribution, departments,
the monthly history; the tenant admin sets weights and enters survey scores."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import URLEncodedBody
from litestar.response import Redirect

from core.cases.inputs import parse
from core.errors import UserError
from core.oversight.figures import tenant_figures
from core.oversight.index import (
    DEFAULT_WEIGHTS,
    INDICATORS,
    compute,
    enter_survey,
    latest_surveys,
    monthly_history,
    tenant_history,
)
from tenants.onboarding import update_settings
from tenants.scope import _current
from web.rendering import current_user, page, requires, tenant_of


class SurveyForm(msgspec.Struct):
    period: Annotated[str, msgspec.Meta(pattern=r"^\d{4}(-\d{2})?$")]
    value: Annotated[float, msgspec.Meta(ge=0, le=100)]
    note: Annotated[str, msgspec.Meta(max_length=300)] = ""


ADMIN = requires("tenant.admin")  # the weights, the surveys and the history (the page is the screen readers')


class IndexPages(Controller):
    path = "/t/{tenant:str}/index"
    include_in_schema = False  # pages; the OpenAPI schema documents the JSON API
    guards = [requires("screen.view")]

    @get("/", name="qinqing_index")
    async def index(self, request: Request) -> object:
        result = await compute(await tenant_figures())
        history, surveys = await tenant_history(), await latest_surveys()
        return page(request, "oversight/index.html", result=result, history=history, surveys=surveys,
                    indicators=INDICATORS)

    @post("/weights", name="index_weights", guards=[ADMIN])
    async def set_weights(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Redirect:
        weights = {}
        for key in DEFAULT_WEIGHTS:
            try:
                value = float(data.get(key, DEFAULT_WEIGHTS[key]))
            except ValueError:
                raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field=key) from None
            if not 0 <= value <= 100:
                raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field=key)
            weights[key] = value
        if not any(weights.values()):
            raise UserError(400, "At least one weight must be above zero.", code="no_weights")
        tenant = await update_settings(tenant_of(request).id, {"index_weights": weights})
        _current.set(tenant)
        return Redirect(path=f"{request.scope['state']['tenant_root']}index/", status_code=303)

    @post("/surveys", name="index_survey", guards=[ADMIN])
    async def add_survey(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Redirect:
        form = parse(SurveyForm, data)
        await enter_survey(form.period, form.value, form.note, current_user(request).id)
        return Redirect(path=f"{request.scope['state']['tenant_root']}index/", status_code=303)

    @post("/history", name="index_history", guards=[ADMIN])
    async def recompute(self, request: Request) -> Redirect:
        await monthly_history()
        return Redirect(path=f"{request.scope['state']['tenant_root']}index/", status_code=303)


