"""The JSON API of project approvals at ``/t/<slug>/api/v1/approvals/`` (bearer tokens only):
projects, the catalogue, applications with their steps, bundles and the figures.  Bodies are
msgspec structs (`plugins.approvals.inputs`), so the OpenAPI schema documents every field."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from core.sdk import READ_ERRORS, WRITE_ERRORS, UserError, current_user, login_required, scoped
from plugins.approvals import catalogue, figures, filings, projects, views
from plugins.approvals.access import (
    load_bundle_filing,
    load_filing,
    load_project,
    require,
    require_any,
    visible_companies,
)
from plugins.approvals.inputs import (
    AcceptIn,
    ActionIn,
    BundleApplyIn,
    BundleIn,
    CaseIn,
    FilingIn,
    HelperIn,
    ItemIn,
    ProjectIn,
    ReceiveIn,
    RefuseIn,
    StageIn,
)
from plugins.approvals.tables import Bundle


async def _bundle(bundle_id: int) -> Bundle:
    row = await scoped(Bundle).objects().where(Bundle.id == bundle_id).first()
    if row is None:
        raise UserError(404, "Not found.")
    return row


class ApprovalApi(Controller):
    path = "/"
    tags = ["approvals"]
    guards = [login_required]

    # -- projects --------------------------------------------------------------------------------

    @get("/projects", summary="Projects you may see (a company: its own), each with its next step",
         responses=READ_ERRORS)
    async def project_list(self, request: Request) -> list[dict[str, Any]]:
        return await views.projects(await visible_companies(current_user(request)))

    @post("/projects", summary="Register a project: name, site, amount_fen, industry, company (credit code), "
                               "contact, helper, and a target date per stage in order", responses=WRITE_ERRORS)
    async def project_create(self, request: Request, data: JSONBody[ProjectIn]) -> dict[str, Any]:
        project = await projects.create_project(current_user(request), data)
        return await views.project_detail(project.id)

    @get("/projects/{project_id:int}", summary="A project: stages, next steps and who is on them, applications, "
                                               "record", responses=READ_ERRORS)
    async def project(self, request: Request, project_id: FromPath[int]) -> dict[str, Any]:
        await load_project(current_user(request), project_id)
        return await views.project_detail(project_id)

    @post("/projects/{project_id:int}/helper", status_code=200,
          summary="Assign the helper (帮办员); a reassignment needs a reason", responses=WRITE_ERRORS)
    async def helper(self, request: Request, project_id: FromPath[int], data: JSONBody[HelperIn]) -> dict[str, Any]:
        user = current_user(request)
        await projects.reassign(user, await load_project(user, project_id), data)
        return await views.project_detail(project_id)

    @post("/projects/{project_id:int}/stage", status_code=200, summary="Mark the current stage reached",
          responses=WRITE_ERRORS)
    async def stage(self, request: Request, project_id: FromPath[int], data: JSONBody[StageIn]) -> dict[str, Any]:
        user = current_user(request)
        await projects.reach_stage(user, await load_project(user, project_id), data)
        return await views.project_detail(project_id)

    @post("/projects/{project_id:int}/actions", status_code=201,
          summary="Set a next step: text, owner (company, helper, department), due_on", responses=WRITE_ERRORS)
    async def action(self, request: Request, project_id: FromPath[int], data: JSONBody[ActionIn]) -> dict[str, Any]:
        user = current_user(request)
        await projects.add_action(user, await load_project(user, project_id), data)
        return await views.project_detail(project_id)

    # -- the catalogue and the figures -----------------------------------------------------------

    @get("/items", summary="The approval catalogue (事项清单) with materials and figures", responses=READ_ERRORS)
    async def items(self, request: Request) -> list[dict[str, Any]]:
        require_any(current_user(request))
        return await catalogue.items()

    @post("/items", status_code=201, summary="Add an approval to the catalogue with its materials",
          responses=WRITE_ERRORS)
    async def item_create(self, request: Request, data: JSONBody[ItemIn]) -> dict[str, Any]:
        item = await catalogue.create_item(current_user(request), data)
        return next(i for i in await catalogue.items() if i["id"] == item.id)

    @get("/figures", summary="Materials and working days before and after the reform, days taken per approval and "
                             "department, signing to start of construction", responses=READ_ERRORS)
    async def figures(self, request: Request) -> dict[str, Any]:
        require(current_user(request), "approvals.view")
        return await figures.figures()

    # -- applications ----------------------------------------------------------------------------

    @get("/filings", summary="Applications you may see; filter by status", responses=READ_ERRORS)
    async def filing_list(self, request: Request, status: FromQuery[str] = "") -> list[dict[str, Any]]:
        return await views.filings(await visible_companies(current_user(request)), status=status[:20])

    @post("/filings", status_code=201, summary="Apply for one approval (item, company, project)",
          responses=WRITE_ERRORS)
    async def filing_create(self, request: Request, data: JSONBody[FilingIn]) -> dict[str, Any]:
        filing = await filings.submit(current_user(request), data)
        return await views.filing_detail(filing.id)

    @get("/filings/{filing_id:int}", summary="An application: materials, shortfalls, next steps, record",
         responses=READ_ERRORS)
    async def filing(self, request: Request, filing_id: FromPath[int]) -> dict[str, Any]:
        await load_filing(current_user(request), filing_id)
        return await views.filing_detail(filing_id)

    @post("/filings/{filing_id:int}/accept", status_code=200,
          summary="Accept; with non-key materials missing (容缺) against a commitment and its due date",
          responses=WRITE_ERRORS)
    async def accept(self, request: Request, filing_id: FromPath[int], data: JSONBody[AcceptIn]) -> dict[str, Any]:
        user = current_user(request)
        await filings.accept(user, await load_filing(user, filing_id), data)
        return await views.filing_detail(filing_id)

    @post("/filings/{filing_id:int}/receive", status_code=200, summary="A missing material is in",
          responses=WRITE_ERRORS)
    async def receive(self, request: Request, filing_id: FromPath[int], data: JSONBody[ReceiveIn]) -> dict[str, Any]:
        user = current_user(request)
        await filings.receive(user, await load_filing(user, filing_id), data)
        return await views.filing_detail(filing_id)

    @post("/filings/{filing_id:int}/grant", status_code=200, summary="Grant the approval", responses=WRITE_ERRORS)
    async def grant(self, request: Request, filing_id: FromPath[int]) -> dict[str, Any]:
        user = current_user(request)
        await filings.grant(user, await load_filing(user, filing_id))
        return await views.filing_detail(filing_id)

    @post("/filings/{filing_id:int}/refuse", status_code=200, summary="Refuse, with the reason",
          responses=WRITE_ERRORS)
    async def refuse(self, request: Request, filing_id: FromPath[int], data: JSONBody[RefuseIn]) -> dict[str, Any]:
        user = current_user(request)
        await filings.refuse(user, await load_filing(user, filing_id), data)
        return await views.filing_detail(filing_id)

    @post("/filings/{filing_id:int}/case", status_code=201,
          summary="Turn a stuck application into a core case (诉求), linked both ways", responses=WRITE_ERRORS)
    async def case(self, request: Request, filing_id: FromPath[int], data: JSONBody[CaseIn]) -> dict[str, Any]:
        user = current_user(request)
        case = await filings.open_case(user, await load_filing(user, filing_id), data)
        return {"id": case.id, "number": case.number, "status": case.status, "filing": filing_id}

    # -- one-thing bundles -----------------------------------------------------------------------

    @get("/bundles", summary="One-thing bundles (一件事) and their approvals", responses=READ_ERRORS)
    async def bundle_list(self, request: Request) -> list[dict[str, Any]]:
        require_any(current_user(request))
        return await views.bundles()

    @post("/bundles", status_code=201, summary="Define a bundle: code, names, items (at least one)",
          responses=WRITE_ERRORS)
    async def bundle_create(self, request: Request, data: JSONBody[BundleIn]) -> dict[str, Any]:
        bundle = await filings.create_bundle(current_user(request), data)
        return next(b for b in await views.bundles() if b["id"] == bundle.id)

    @post("/bundles/{bundle_id:int}/apply", status_code=201,
          summary="Apply once for a bundle: its approvals open in parallel", responses=WRITE_ERRORS)
    async def bundle_apply(self, request: Request, bundle_id: FromPath[int],
                           data: JSONBody[BundleApplyIn]) -> dict[str, Any]:
        bf = await filings.apply_bundle(current_user(request), await _bundle(bundle_id), data)
        return await views.bundle_filing_detail(bf.id)

    @get("/bundle-filings/{bundle_filing_id:int}", summary="One application for a bundle: one progress and each "
                                                           "department's part", responses=READ_ERRORS)
    async def bundle_filing(self, request: Request, bundle_filing_id: FromPath[int]) -> dict[str, Any]:
        await load_bundle_filing(current_user(request), bundle_filing_id)
        return await views.bundle_filing_detail(bundle_filing_id)
