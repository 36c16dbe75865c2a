"""The JSON API of the cadre module at ``/t/<slug>/api/v1/cadre/`` (bearer tokens only).

Confidential: organization-department roles only, and a cadre for their own file and their own
fault-tolerance applications; anyone else gets 403 (404 for an id that is not this tenant's)
and no data.  Every body is a struct below, so the OpenAPI schema describes it and a malformed
one is a 400 naming the field; what a step requires is checked by the step."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from core.sdk import READ_ERRORS, WRITE_ERRORS, current_user, requires
from plugins.cadre import campaigns, publicity, tolerance, views
from plugins.cadre.access import require, require_cadre_reader

ORG = [requires("cadre.view")]
MANAGE = [requires("cadre.manage")]
Reason = Annotated[str, msgspec.Meta(max_length=2000)]


class CadreIn(msgspec.Struct, kw_only=True):
    """A cadre (干部): a staff user of this tenant, their post, rank and department."""

    user: int
    department: int | None = None  # the user's own department when left out
    post: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    rank: Annotated[str, msgspec.Meta(max_length=50)] | None = None


class CampaignIn(msgspec.Struct, kw_only=True):
    """A special evaluation (专项考察): its title and theme, the period, the cadres in scope and the evaluators."""

    title: Annotated[str, msgspec.Meta(max_length=200)]
    theme: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    period_start: date
    period_end: date
    cadres: list[int] | str | None = None  # cadre ids (or "1,2,3")
    evaluators: list[int] | str | None = None  # user ids (or "4,5")


class CampaignStep(msgspec.Struct, kw_only=True):
    """A campaign step's fields: each step reads the ones it needs."""

    cadre: int | None = None  # add-cadre, score, rate, outcome
    user: int | None = None  # add-evaluator
    scores: dict[str, int] | None = None  # score: criterion → 0–100
    comment: Reason | None = None  # score
    rating: str | None = None  # rate (the suggested one when left out)
    outcome: str | None = None  # outcome
    reason: Reason | None = None  # outcome
    summary: Annotated[str, msgspec.Meta(max_length=500)] | None = None  # outcome: shown in publicity (公示)


class ApplicationIn(msgspec.Struct, kw_only=True):
    """A fault-tolerance application (容错免责申请): the cadre (the organization department's filing), the
    case or inspection the mistake concerns, the mistake and its circumstances."""

    cadre: int | None = None
    case: int | None = None
    inspection: int | None = None
    mistake: Reason | None = None
    circumstances: Annotated[str, msgspec.Meta(max_length=5000)] | None = None


class Check(msgspec.Struct, kw_only=True):
    """One distinction or criterion as verified: met or not, and a note."""

    met: bool | None = None
    note: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class ApplicationStep(msgspec.Struct, kw_only=True):
    """An application step's fields: verify (checks), decide (decision, reason), finalize."""

    version: int | None = None  # the application's version as read; a stale one answers 409
    checks: dict[str, Check] | None = None  # verify: distinction or criterion → check
    decision: str | None = None  # decide: exempted, reduced or refused
    reason: Reason | None = None  # decide
    summary: Annotated[str, msgspec.Meta(max_length=500)] | None = None  # decide: shown in publicity (公示)


class ObjectionAnswer(msgspec.Struct, kw_only=True):
    """The organization department's answer to an objection (异议): upheld or not_upheld, and why."""

    verdict: str
    reason: Reason


def _fields(body: msgspec.Struct | None) -> dict:
    """The fields a body set, as plain values (the shape the forms give)."""
    return {k: v for k, v in msgspec.to_builtins(body).items() if v is not None} if body else {}


class CadreApi(Controller):
    path = "/"
    tags = ["cadre"]

    @get("/cadres", summary="Cadres of this tenant (organization department only)", responses=READ_ERRORS,
         guards=ORG)
    async def cadres(self) -> list[dict[str, Any]]:
        return await campaigns.list_cadres()

    @post("/cadres", summary="Add or update a cadre (user, post, rank, department)", responses=WRITE_ERRORS,
          guards=MANAGE)
    async def save_cadre(self, request: Request, data: JSONBody[CadreIn]) -> dict[str, Any]:
        row = await campaigns.save_cadre(current_user(request), _fields(data))
        return await campaigns.get_cadre(row.id)

    @get("/cadres/{cadre_id:int}", summary="A cadre's file: evaluations, outcomes, fault-tolerance decisions",
         responses=READ_ERRORS)
    async def cadre_file(self, request: Request, cadre_id: FromPath[int]) -> dict[str, Any]:
        await campaigns.get_cadre(cadre_id)
        await require_cadre_reader(current_user(request), cadre_id)
        return await views.cadre_file(cadre_id)

    @get("/campaigns", summary="Special evaluations (专项考察) with their totals", responses=READ_ERRORS, guards=ORG)
    async def campaigns_list(self) -> list[dict[str, Any]]:
        return await views.list_campaigns()

    @post("/campaigns", summary="Start a campaign (title, theme, period_start, period_end, cadres, evaluators)",
          responses=WRITE_ERRORS, guards=MANAGE)
    async def create(self, request: Request, data: JSONBody[CampaignIn]) -> dict[str, Any]:
        row = await campaigns.create_campaign(current_user(request), _fields(data))
        return await views.campaign_detail(row.id)

    @get("/campaigns/{campaign_id:int}", summary="A campaign: evidence sheets, scores, ratings, outcomes, totals",
         responses=READ_ERRORS)
    async def campaign(self, request: Request, campaign_id: FromPath[int]) -> dict[str, Any]:
        await campaigns.get_campaign(campaign_id)  # 404 first: another tenant's id is simply not found
        require(current_user(request), "cadre.view")
        return await views.campaign_detail(campaign_id)

    @post("/campaigns/{campaign_id:int}/{step:str}", status_code=200,
          summary="A campaign step: add-cadre, add-evaluator, generate, score, rate, outcome, close",
          responses=WRITE_ERRORS)
    async def campaign_step(self, request: Request, campaign_id: FromPath[int], step: FromPath[str],
                            data: JSONBody[CampaignStep | None] = None) -> dict[str, Any]:
        fields = _fields(data)
        await campaigns.step(current_user(request), campaign_id, step, fields)
        await publicity.after_step(campaign_id, step, fields)
        return await views.campaign_detail(campaign_id)

    @get("/applications", summary="Fault-tolerance applications (容错免责): all, or a cadre's own", responses=READ_ERRORS,
         guards=[requires("cadre.view", "cadre.self")])
    async def applications(self, request: Request) -> list[dict[str, Any]]:
        return await views.applications_for(current_user(request))

    @post("/applications", summary="Apply for fault tolerance (cadre, case or inspection, mistake, circumstances)",
          responses=WRITE_ERRORS, guards=[requires("cadre.manage", "cadre.self")])
    async def apply(self, request: Request, data: JSONBody[ApplicationIn | None] = None) -> dict[str, Any]:
        row = await tolerance.apply(current_user(request), _fields(data))
        return await views.application_detail(row.id)

    @get("/applications/{application_id:int}", summary="One fault-tolerance application", responses=READ_ERRORS)
    async def application(self, request: Request, application_id: FromPath[int]) -> dict[str, Any]:
        await tolerance.require_application_reader(current_user(request), application_id)
        return await views.application_detail(application_id)

    @post("/applications/{application_id:int}/{step:str}", status_code=200,
          summary="An application step: verify (checks), decide (decision, reason), finalize", responses=WRITE_ERRORS)
    async def application_step(self, request: Request, application_id: FromPath[int], step: FromPath[str],
                               data: JSONBody[ApplicationStep | None] = None) -> dict[str, Any]:
        await tolerance.step(current_user(request), application_id, step, _fields(data))
        return await views.application_detail(application_id)

    @get("/objections", summary="Objections (异议) lodged against publicity (公示), newest first", responses=READ_ERRORS,
         guards=ORG)
    async def objections(self, status: FromQuery[str] = "") -> list[dict[str, Any]]:
        return await publicity.objections(status if status in ("pending", "upheld", "not_upheld") else "")

    @post("/objections/{objection_id:int}/answer", status_code=200,
          summary="Answer an objection once: upheld (stops the publicity) or not_upheld, with a reason",
          responses=WRITE_ERRORS, guards=MANAGE)
    async def answer(self, request: Request, objection_id: FromPath[int], data: JSONBody[ObjectionAnswer]) -> dict[str, Any]:
        row = await publicity.answer(current_user(request), objection_id, _fields(data))
        return {"id": row.id, "publicity": row.publicity, "status": row.status, "answer": row.answer}
