"""The JSON API of the enforcement module at ``/t/<slug>/api/v1/enforcement/`` (bearer tokens
only): inspections of companies with the repeated-inspection warning, joint inspections,
findings and outcomes with the head's sign-off, contesting an outcome, the lists (清单) and the
figures.  Bodies are msgspec structs (in the OpenAPI schema); bad input answers 400 naming the
field, an id of another tenant (or another company's, for a company user) 404."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from core.sdk import READ_ERRORS, WRITE_ERRORS, current_user
from plugins.enforcement import findings, inspections, lists, views
from plugins.enforcement.access import ADMINS, OFFICERS, READERS, STAFF, own_companies, require_reader
from plugins.enforcement.findings import FindingOutcome, OutcomeContest, PenaltySignOff
from plugins.enforcement.inspections import InspectionAnnouncement
from plugins.enforcement.lists import ListItemIn


class JointStep(msgspec.Struct):
    """An inspection step's input: the joint inspection to join (step `join`)."""

    joint: int | None = None


def _plain(data: Any) -> dict:
    """A body struct as a dict, checked again by the domain (blank text counts as missing)."""
    return msgspec.structs.asdict(data) if isinstance(data, msgspec.Struct) else dict(data or {})


class EnforcementApi(Controller):
    path = "/"
    tags = ["enforcement"]
    guards = [READERS]

    @get("/inspections", summary="Inspections of companies (涉企检查): all for staff, a company's own for it",
         responses=READ_ERRORS)
    async def inspections_list(self, request: Request, company: FromQuery[int | None] = None) -> list[dict[str, Any]]:
        return await inspections.list_for(current_user(request), company)

    @post("/inspections", status_code=201, responses=WRITE_ERRORS, guards=[OFFICERS],
          summary="Announce an inspection (company, planned_on, legal_basis, inspectors, subject, department); "
                  "the answer carries the repeated-inspection warning")
    async def register(self, request: Request, data: JSONBody[InspectionAnnouncement]) -> dict[str, Any]:
        user = current_user(request)
        row = await inspections.register(user, _plain(data))
        return await views.inspection_detail(user, row.id)

    @get("/inspections/{company_inspection_id:int}", responses=READ_ERRORS,
         summary="An inspection: its warning, joint inspection and findings")
    async def inspection(self, request: Request, company_inspection_id: FromPath[int]) -> dict[str, Any]:
        return await views.inspection_detail(current_user(request), company_inspection_id)

    @post("/inspections/{company_inspection_id:int}/findings", status_code=201, responses=WRITE_ERRORS,
          summary="Record a finding and its outcome (description, outcome, list_item, penalty_fen, reason)")
    async def record(self, request: Request, company_inspection_id: FromPath[int],
                     data: JSONBody[FindingOutcome]) -> dict[str, Any]:
        user = current_user(request)
        await inspections.visible(user, company_inspection_id)
        row = await findings.record(user, company_inspection_id, _plain(data))
        return await findings.one(row.id)

    @post("/inspections/{company_inspection_id:int}/{step:str}", status_code=200, responses=WRITE_ERRORS,
          summary="An inspection step: propose-joint, join (joint), inspected, cancel")
    async def inspection_step(self, request: Request, company_inspection_id: FromPath[int], step: FromPath[str],
                              data: JSONBody[JointStep | None] = None) -> dict[str, Any]:
        user = current_user(request)
        await inspections.step(user, company_inspection_id, step, _plain(data))
        return await views.inspection_detail(user, company_inspection_id)

    @get("/findings", summary="Findings and outcomes you may see (status=awaiting_signoff for the sign-off queue)",
         responses=READ_ERRORS)
    async def findings_list(self, request: Request, status: FromQuery[str] = "") -> list[dict[str, Any]]:
        return await findings.list_for(await own_companies(current_user(request)), status[:20])

    @get("/findings/{finding_id:int}", summary="One finding and its outcome", responses=READ_ERRORS)
    async def finding(self, request: Request, finding_id: FromPath[int]) -> dict[str, Any]:
        row = await findings.get(finding_id)
        await inspections.visible(current_user(request), row.inspection)
        return await findings.one(finding_id)

    @post("/findings/{finding_id:int}/sign-off", status_code=200, responses=WRITE_ERRORS,
          summary="The department head signs off a penalty (decision approve or return, comment)")
    async def sign_off(self, request: Request, finding_id: FromPath[int], data: JSONBody[PenaltySignOff]) -> dict[str, Any]:
        await findings.step(current_user(request), finding_id, "sign-off", _plain(data))
        return await findings.one(finding_id)

    @post("/findings/{finding_id:int}/revise", status_code=200, responses=WRITE_ERRORS,
          summary="Record a returned finding's outcome again")
    async def revise(self, request: Request, finding_id: FromPath[int], data: JSONBody[FindingOutcome]) -> dict[str, Any]:
        await findings.step(current_user(request), finding_id, "revise", _plain(data))
        return await findings.one(finding_id)

    @post("/findings/{finding_id:int}/contest", status_code=201, responses=WRITE_ERRORS,
          summary="The company contests a final outcome (reason): a core case is filed and linked")
    async def contest(self, request: Request, finding_id: FromPath[int], data: JSONBody[OutcomeContest]) -> dict[str, Any]:
        await findings.step(current_user(request), finding_id, "contest", _plain(data))
        return await findings.one(finding_id)

    @get("/lists", summary="The lists (清单): 首违不罚, 从轻减轻, 不予强制, each item with its legal basis",
         responses=READ_ERRORS)
    async def list_items(self, request: Request) -> list[dict[str, Any]]:
        require_reader(current_user(request))
        return await lists.items()

    @post("/lists", status_code=201, responses=WRITE_ERRORS, guards=[ADMINS],
          summary="Add a list item (kind, code, title, legal_basis, conditions, department); tenant admin")
    async def add_item(self, request: Request, data: JSONBody[ListItemIn]) -> dict[str, Any]:
        row = await lists.save(current_user(request), _plain(data))
        return (await lists.get(row.id)).to_dict()

    @post("/lists/{item_id:int}", status_code=200, responses=WRITE_ERRORS, guards=[ADMINS],
          summary="Edit or retire a list item")
    async def edit_item(self, request: Request, item_id: FromPath[int], data: JSONBody[ListItemIn]) -> dict[str, Any]:
        await lists.get(item_id)
        row = await lists.save(current_user(request), _plain(data), item_id)
        return row.to_dict()

    @get("/figures", summary="Inspections per company per year, joint inspections, outcomes, contested outcomes",
         responses=READ_ERRORS, guards=[STAFF])
    async def figures(self, request: Request, year: FromQuery[int | None] = None) -> dict[str, Any]:
        data = await views.figures(year)
        data["by_year"] = {str(k): v for k, v in data["by_year"].items()}
        return data

