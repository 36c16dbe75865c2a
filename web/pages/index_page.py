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
from core.oversight.index import DEFAULT_WEIGHTS, INDICATORS, compute, monthly_history
from core.oversight.tables import IndexSnapshot, SurveyInput
from tenants.onboarding import update_settings
from tenants.scope import _current, scoped
from web.rendering import current_user, page, requires, tenant_of


class SurveyForm(msgspec.Struct):
    period: Annotated[str, msgspec.Meta(pattern=r"^\d{4}(-\d{2})?$")]
    value: Annotated[float, msgspec.Meta(ge=0, le=100)]
    note: Annotated[str, msgspec.Meta(max_length=300)] = ""


class IndexPages(Controller):
    path = "/t/{tenant:str}/index"
    include_in_schema = False  # pages; the OpenAPI schema documents the JSON API
    guards = [requires("screen.view")]

    @get("/", name="qinqing_index")
    async def index(self, request: Request) -> object:
        result = await compute(await tenant_figures())
        history = await scoped(IndexSnapshot).select().where(IndexSnapshot.department.is_null()).order_by(
            IndexSnapshot.month)
        surveys = await scoped(SurveyInput).select().order_by(SurveyInput.id, ascending=False).limit(20)
        return page(request, "oversight/index.html", result=result, history=history, surveys=surveys,
                    indicators=INDICATORS)

    def _admin(self, request: Request) -> None:
        if not current_user(request).can("tenant.admin"):
            raise UserError(403, "You are not allowed to do this.")

    @post("/weights", name="index_weights")
    async def set_weights(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Redirect:
        self._admin(request)
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

    @post("/surveys", name="index_survey")
    async def add_survey(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Redirect:
        self._admin(request)
        form = parse(SurveyForm, data)
        await scoped(SurveyInput).add(period=form.period, indicator="survey", value=form.value, note=form.note,
                                      entered_by=current_user(request).id)
        return Redirect(path=f"{request.scope['state']['tenant_root']}index/", status_code=303)

    @post("/history", name="index_history")
    async def recompute(self, request: Request) -> Redirect:
        self._admin(request)
        await monthly_history()
        return Redirect(path=f"{request.scope['state']['tenant_root']}index/", status_code=303)


