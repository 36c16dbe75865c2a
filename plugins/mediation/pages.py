"""Pages of mediation under ``/t/<slug>/mediation/``: the landing page with the docket (a
mediator's own with ``?mine=1``), intake, the dispute page with its htmx step forms, the printable
agreement and the XLSX export."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Response

from core.sdk import (
    Case,
    Company,
    UserError,
    case_attachments,
    current_tenant,
    current_user,
    download_disposition,
    login_required,
    page,
    page_window,
    plugin_info,
    requires,
    scoped,
    yuan,
)
from plugins.mediation import files, queries, referrals, service, sweeping
from plugins.mediation.api import run_step
from plugins.mediation.tables import (
    ASSET_LABELS,
    INSTALMENT_LABELS,
    MILESTONE_LABELS,
    OUTCOME_LABELS,
    PARTY_LABELS,
    STATUS_LABELS,
    STEP_LABELS,
    SWEEP_LABELS,
)

LABELS = dict(statuses=STATUS_LABELS, parties_labels=PARTY_LABELS, assets=ASSET_LABELS, outcomes=OUTCOME_LABELS,
              instalment_labels=INSTALMENT_LABELS, steps=STEP_LABELS, sweep_labels=SWEEP_LABELS, milestones=MILESTONE_LABELS, yuan=yuan)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _root(request: Request) -> str:
    return f"{request.scope['state']['tenant_root']}mediation/"


def _can_see(user) -> bool:
    return user.can("mediation.view") or user.can("mediation.view_own") or user.has_role("company")


def _referrer(request: Request):
    """A district user who may see the district's referrals (never in a court: 404 there)."""
    user = current_user(request)
    if current_tenant().kind == "court":
        raise UserError(404, "Not found.")
    if not (referrals.can_refer(user) or user.can("case.view_all")):
        raise UserError(403, "You are not allowed to do this.")
    return user


def _wants_fragment(request: Request) -> bool:
    """An htmx request for the docket table alone (a boosted link wants the whole page)."""
    return bool(request.headers.get("hx-request")) and not request.headers.get("hx-boosted")


class MediationPages(Controller):
    path = "/"
    guards = [login_required]

    @get("/", name="mediation_home")
    async def index(self, request: Request) -> object:
        user, q = current_user(request), request.query_params
        if _wants_fragment(request) and not _can_see(user):
            raise UserError(403, "You are not allowed to do this.")  # the fragment is the docket itself
        if current_tenant().kind != "court":  # a district: the referrals it made to its court(s)
            _referrer(request)
            return page(request, "mediation/referrals.html", rows=await referrals.list_referrals(),
                        courts=await referrals.courts(), can_refer=referrals.can_refer(user), **LABELS)
        status = q.get("status", "") if q.get("status", "") in STATUS_LABELS else ""
        page_no, pages, rows = 1, 1, None
        if _can_see(user):
            try:
                page_no = int(q.get("page") or 1)
            except ValueError:
                page_no = 1
            rows, total = await queries.disputes_page(user, status, q.get("mine") == "1", page_no)
            page_no, pages = page_window(page_no, queries.PER_PAGE)[0], max(1, -(-total // queries.PER_PAGE))
        return page(request, "mediation/index.html", fragment="mediation/_table.html", rows=rows, status=status,
                    mine=q.get("mine") == "1", page_no=page_no, pages=pages, plugin_info=plugin_info("mediation"),
                    **LABELS)

    @get("/new", name="mediation_new", guards=[requires("mediation.manage")])
    async def new(self, request: Request) -> object:
        companies = await scoped(Company).select(Company.credit_code, Company.name).order_by(Company.name).limit(500)
        return page(request, "mediation/new.html", companies=companies,
                    case=request.query_params.get("case", ""))

    @post("/disputes", name="mediation_intake", guards=[requires("mediation.manage")])
    async def intake(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Redirect:
        form = {k: v for k, v in data.items() if k != "_csrf_token"}
        form["guarantors"] = [g for g in (form.get("guarantors") or "").splitlines() if g.strip()]
        dispute = await service.intake(current_user(request), form)
        return Redirect(path=f"{_root(request)}disputes/{dispute.id}", status_code=303)

    @get("/disputes/{dispute_id:int}", name="mediation_dispute")
    async def dispute(self, request: Request, dispute_id: FromPath[int]) -> object:
        return await _dispute_page(request, dispute_id)

    @post("/disputes/{dispute_id:int}/{step:str}", name="mediation_step")
    async def step(self, request: Request, dispute_id: FromPath[int], step: FromPath[str],
                   data: URLEncodedBody[dict[str, str]]) -> object:
        await run_step(current_user(request), dispute_id, step, {k: v for k, v in data.items() if k != "_csrf_token"})
        if request.headers.get("hx-request"):
            return await _dispute_page(request, dispute_id, fragment=True)
        return Redirect(path=f"{_root(request)}disputes/{dispute_id}", status_code=303)

    @get("/disputes/{dispute_id:int}/agreement", name="mediation_agreement")
    async def agreement(self, request: Request, dispute_id: FromPath[int]) -> object:
        d = await queries.detail(current_user(request), dispute_id)
        return page(request, "mediation/agreement.html", d=d, **LABELS)

    @get("/sweep", name="mediation_sweep")
    async def sweep_preview(self, request: Request) -> object:
        user = current_user(request)
        result = await sweeping.run(user, request.query_params.get("on", ""), dry_run=True)
        return page(request, "mediation/sweep.html", result=result, done=None, **LABELS)

    @post("/sweep", name="mediation_sweep_run")
    async def sweep_run(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> object:
        done = await sweeping.run(current_user(request), data.get("on", ""), dry_run=False)
        return page(request, "mediation/sweep.html", result=done, done=done, **LABELS)

    # -- a district's referrals to its court(s) ---------------------------------------------------

    @get("/refer", name="mediation_refer")
    async def refer_form(self, request: Request) -> object:
        user = _referrer(request)
        case = request.query_params.get("case", "")
        found, attached = None, []
        if case.isdigit():
            found = await scoped(Case).select(Case.id, Case.number, Case.title, Case.company.name.as_alias(
                "company_name")).where(Case.id == int(case)).first()
            attached = await case_attachments(found["id"]) if found else []
        return page(request, "mediation/refer.html", courts=await referrals.courts(), case=found,
                    attachments=attached, can_refer=referrals.can_refer(user), **LABELS)

    @post("/referrals", name="mediation_referral_create")
    async def refer(self, request: Request) -> Redirect:
        _referrer(request)
        form = await request.form()
        data = {k: v for k, v in form.items() if k not in ("_csrf_token", "attachments")}
        data["attachments"] = form.getall("attachments") if "attachments" in form else []
        referral = await referrals.refer(current_user(request), data)
        return Redirect(path=f"{_root(request)}referrals/{referral.id}", status_code=303)

    @get("/disputes/{dispute_id:int}/files/{file_id:int}", name="mediation_dispute_file")
    async def dispute_file(self, request: Request, dispute_id: FromPath[int], file_id: FromPath[int]) -> Response:
        row, data = await files.download(current_user(request), dispute_id, file_id)
        return Response(data, media_type=row["mime"] or "application/octet-stream",
                        headers={"Content-Disposition": download_disposition(row["filename"]),
                                 "Content-Security-Policy": "default-src 'none'; sandbox"})

    @get("/referrals/{referral_id:int}", name="mediation_referral")
    async def referral(self, request: Request, referral_id: FromPath[int]) -> object:
        _referrer(request)
        return page(request, "mediation/referral.html", r=await referrals.referral_detail(referral_id), **LABELS)

    @get("/export.xlsx", name="mediation_export", guards=[requires("mediation.view")])
    async def export(self, request: Request) -> Response:
        return Response(await queries.export_xlsx(current_user(request)), media_type=XLSX,
                        headers={"Content-Disposition": 'attachment; filename="disputes.xlsx"'})


async def _dispute_page(request: Request, dispute_id: int, fragment: bool = False) -> object:
    user = current_user(request)
    d = await queries.detail(user, dispute_id)
    actions = []
    if d["status"] not in ("completed", "enforced", "declined"):
        allowed = {"party": "mediation.manage", "measure": "mediation.manage", "lift": "mediation.manage",
                   "session": "mediation.mediate", "settle": "mediation.mediate", "confirm": "mediation.judge",
                   "pay": "mediation.manage", "enforce": "mediation.judge", "conclude": "mediation.judge",
                   "accept": "mediation.manage", "decline": "mediation.manage"}
        by_status = {"referred": ("accept", "decline"), "mediating": ("measure", "session", "settle", "party"), "settled": ("confirm", "measure"),
                     "repaying": ("pay", "measure"), "defaulted": ("pay", "enforce"),
                     "enforcing": ("pay", "conclude")}
        actions = [s for s in by_status.get(d["status"], ()) if user.can(allowed[s])]
        if user.can("mediation.manage") and any(m["lifted_on"] is None for m in d["measures"]):
            actions.append("lift")
    return page(request, "mediation/_dispute.html" if fragment else "mediation/dispute.html", d=d, actions=actions,
                **LABELS)
