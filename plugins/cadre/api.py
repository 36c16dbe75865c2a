"""The JSON API of the cadre module at ``/t/<slug>/api/v1/cadre/`` (bearer tokens only).

Confidential: organization-department roles only, and a cadre for their own file and their own
fault-tolerance applications; anyone else gets 403 (404 for an id that is not this tenant's)
and no data."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from core.sdk import READ_ERRORS, WRITE_ERRORS, current_user
from plugins.cadre import campaigns, tolerance, views
from plugins.cadre.access import own_cadre_id, require, require_any, require_cadre_reader


def _body(data) -> dict:
    return dict(data or {}) if isinstance(data, dict) else {}


class CadreApi(Controller):
    path = "/"
    tags = ["cadre"]

    @get("/cadres", summary="Cadres of this tenant (organization department only)", responses=READ_ERRORS)
    async def cadres(self, request: Request) -> list[dict[str, Any]]:
        require(current_user(request), "cadre.view")
        return await campaigns.list_cadres()

    @post("/cadres", summary="Add or update a cadre (user, post, rank, department)", responses=WRITE_ERRORS)
    async def save_cadre(self, request: Request, data: JSONBody[dict[str, Any] | None] = None) -> dict[str, Any]:
        row = await campaigns.save_cadre(current_user(request), _body(data))
        return await campaigns.get_cadre(row.id)

    @get("/cadres/{cadre_id:int}", summary="A cadre's file: evaluations, outcomes, fault-tolerance decisions",
         responses=READ_ERRORS)
    async def cadre_file(self, request: Request, cadre_id: FromPath[int]) -> dict[str, Any]:
        await campaigns.get_cadre(cadre_id)
        await require_cadre_reader(current_user(request), cadre_id)
        return await views.cadre_file(cadre_id)

    @get("/campaigns", summary="Special evaluations (专项考察) with their totals", responses=READ_ERRORS)
    async def campaigns_list(self, request: Request) -> list[dict[str, Any]]:
        require(current_user(request), "cadre.view")
        return await views.list_campaigns()

    @post("/campaigns", summary="Start a campaign (title, theme, period_start, period_end, cadres, evaluators)",
          responses=WRITE_ERRORS)
    async def create(self, request: Request, data: JSONBody[dict[str, Any] | None] = None) -> dict[str, Any]:
        row = await campaigns.create_campaign(current_user(request), _body(data))
        return await views.campaign_detail(row.id)

    @get("/campaigns/{campaign_id:int}", summary="A campaign: evidence sheets, scores, ratings, outcomes, totals",
         responses=READ_ERRORS)
    async def campaign(self, request: Request, campaign_id: FromPath[int]) -> dict[str, Any]:
        await campaigns.get_campaign(campaign_id)
        require(current_user(request), "cadre.view")
        return await views.campaign_detail(campaign_id)

    @post("/campaigns/{campaign_id:int}/{step:str}", status_code=200,
          summary="A campaign step: add-cadre, add-evaluator, generate, score, rate, outcome, close",
          responses=WRITE_ERRORS)
    async def campaign_step(self, request: Request, campaign_id: FromPath[int], step: FromPath[str],
                            data: JSONBody[dict[str, Any] | None] = None) -> dict[str, Any]:
        await campaigns.step(current_user(request), campaign_id, step, _body(data))
        return await views.campaign_detail(campaign_id)

    @get("/applications", summary="Fault-tolerance applications (容错免责): all, or a cadre's own", responses=READ_ERRORS)
    async def applications(self, request: Request) -> list[dict[str, Any]]:
        user = current_user(request)
        require_any(user)
        if user.can("cadre.view"):
            return await views.list_applications()
        own = await own_cadre_id(user)
        return await views.list_applications(own) if own is not None else []

    @post("/applications", summary="Apply for fault tolerance (cadre, case or inspection, mistake, circumstances)",
          responses=WRITE_ERRORS)
    async def apply(self, request: Request, data: JSONBody[dict[str, Any] | None] = None) -> dict[str, Any]:
        row = await tolerance.apply(current_user(request), _body(data))
        return await views.application_detail(row.id)

    @get("/applications/{application_id:int}", summary="One fault-tolerance application", responses=READ_ERRORS)
    async def application(self, request: Request, application_id: FromPath[int]) -> dict[str, Any]:
        await tolerance.require_application_reader(current_user(request), application_id)
        return await views.application_detail(application_id)

    @post("/applications/{application_id:int}/{step:str}", status_code=200,
          summary="An application step: verify (checks), decide (decision, reason), finalize", responses=WRITE_ERRORS)
    async def application_step(self, request: Request, application_id: FromPath[int], step: FromPath[str],
                               data: JSONBody[dict[str, Any] | None] = None) -> dict[str, Any]:
        await tolerance.step(current_user(request), application_id, step, _body(data))
        return await views.application_detail(application_id)
