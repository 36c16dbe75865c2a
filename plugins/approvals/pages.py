"""Pages of project approvals under ``/t/<slug>/approvals/``: the module's dashboard (figures, the
projects with their next step, applications waiting), a project (stages, "what happens next and
who is on it", applications, helper, record), an application (materials, 容缺 shortfalls, the
department's steps, a stuck one turned into a case), the catalogue, the bundles, the export."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from core.sdk import Department, Membership, User, UserError, current_user, login_required, page, parse, scoped, today
from plugins.approvals import catalogue, figures, filings, labels, projects, views
from plugins.approvals.access import (
    HELPER_ROLES,
    invalid,
    is_staff,
    load_bundle_filing,
    load_filing,
    load_project,
    require,
    require_any,
    visible_companies,
)
from plugins.approvals.export import workbook
from plugins.approvals.inputs import (
    AcceptIn,
    ActionIn,
    BundleApplyIn,
    BundleIn,
    CaseIn,
    FilingIn,
    HelperIn,
    ItemIn,
    MaterialIn,
    ProjectIn,
    ReceiveIn,
    RefuseIn,
    StageIn,
)
from plugins.approvals.tables import Bundle

LABELS = dict(stage_labels=labels.STAGES, filing_statuses=labels.FILING_STATUSES, owners=labels.OWNERS,
              bundle_statuses=labels.BUNDLE_STATUSES, event_labels=labels.EVENTS, tones=labels.TONES,
              action_kinds=labels.ACTION_KINDS)


def _root(request: Request) -> str:
    return f"{request.scope['state']['tenant_root']}approvals/"


async def _form(request: Request) -> tuple[dict, object]:
    form = await request.form()
    return {k: v for k, v in form.items() if k != "_csrf_token"}, form


def _ids(values: list) -> list[int]:
    out = []
    for value in values:
        if str(value).strip():
            if not str(value).strip().isdigit():
                raise invalid("items")
            out.append(int(value))
    return out


def _optional_int(data: dict, key: str) -> dict:
    value = str(data.get(key) or "").strip()
    if not value:
        data.pop(key, None)
    elif value.isdigit():
        data[key] = int(value)
    else:
        raise invalid(key)
    return data


def _lines(text: str, key: bool) -> list[MaterialIn]:
    return [MaterialIn(name_zh=line.strip()[:200], key=key) for line in (text or "").splitlines() if line.strip()]


async def _helpers() -> list[dict]:
    rows = await scoped(Membership).select(Membership.user).where(Membership.role.is_in(list(HELPER_ROLES)))
    ids = sorted({r["user"] for r in rows})
    return await User.select(User.id, User.display_name).where(User.id.is_in(ids)).order_by(User.id) if ids else []


async def _departments() -> list[dict]:
    return await scoped(Department).select(Department.id, Department.name_zh, Department.name_en).order_by(
        Department.id)


class ApprovalPages(Controller):
    path = "/"
    guards = [login_required]

    @get("/", name="approvals_home")
    async def home(self, request: Request) -> object:
        user = current_user(request)
        companies = await visible_companies(user)
        staff = is_staff(user)
        return page(request, "approvals/index.html", staff=staff, figures=await figures.figures() if staff else None,
                    projects=await views.projects(companies),
                    filings=await views.filings(companies) if not staff else [
                        f for f in await views.filings(None) if f["status"] in ("submitted", "accepted")],
                    bundle_filings=await views.bundle_filings(companies), **LABELS)

    @get("/export.xlsx", name="approvals_export")
    async def export(self, request: Request) -> object:
        require(current_user(request), "approvals.view")
        return await workbook()

    # -- projects --------------------------------------------------------------------------------

    @get("/projects/new", name="approvals_project_new")
    async def project_new(self, request: Request) -> object:
        user = current_user(request)
        if not (user.can("approvals.manage") or user.can("approvals.help")):
            raise UserError(403, "You are not allowed to do this.")
        return page(request, "approvals/project_new.html", stages=projects.stage_keys(), helpers=await _helpers(),
                    **LABELS)

    @post("/projects", name="approvals_project_create")
    async def project_create(self, request: Request) -> Redirect:
        data, _ = await _form(request)
        targets = {k: data.pop(f"target_{k}") for k in projects.stage_keys() if data.get(f"target_{k}")}
        data = _optional_int(data, "helper")
        if str(data.get("amount") or "").strip():
            try:  # 万元 in the form, fen in the record
                data["amount_fen"] = int(Decimal(str(data.pop("amount")).replace(",", "")) * 1_000_000)
            except (InvalidOperation, ValueError):
                raise invalid("amount") from None
        form = parse(ProjectIn, {**data, "targets": targets})
        project = await projects.create_project(current_user(request), form)
        return Redirect(path=f"{_root(request)}projects/{project.id}", status_code=303)

    @get("/projects/{project_id:int}", name="approvals_project")
    async def project(self, request: Request, project_id: FromPath[int]) -> object:
        user = current_user(request)
        await load_project(user, project_id)
        return page(request, "approvals/project.html", p=await views.project_detail(project_id),
                    helpers=await _helpers() if user.can("approvals.manage") else [],
                    departments=await _departments(), items=await catalogue.items(), today=today(), **LABELS)

    @post("/projects/{project_id:int}/{step:str}", name="approvals_project_step")
    async def project_step(self, request: Request, project_id: FromPath[int], step: FromPath[str]) -> Redirect:
        user = current_user(request)
        project = await load_project(user, project_id)
        data, _ = await _form(request)
        if step == "helper":
            await projects.reassign(user, project, parse(HelperIn, data))
        elif step == "stage":
            await projects.reach_stage(user, project, parse(StageIn, data))
        elif step == "actions":
            await projects.add_action(user, project, parse(ActionIn, _optional_int(data, "department")))
        else:
            raise UserError(404, "Not found.")
        return Redirect(path=f"{_root(request)}projects/{project_id}", status_code=303)

    # -- applications ----------------------------------------------------------------------------

    @post("/filings", name="approvals_filing_create")
    async def filing_create(self, request: Request) -> Redirect:
        data, _ = await _form(request)
        filing = await filings.submit(current_user(request), parse(FilingIn, _optional_int(data, "project")))
        return Redirect(path=f"{_root(request)}filings/{filing.id}", status_code=303)

    @get("/filings/{filing_id:int}", name="approvals_filing")
    async def filing(self, request: Request, filing_id: FromPath[int]) -> object:
        await load_filing(current_user(request), filing_id)
        return page(request, "approvals/filing.html", f=await views.filing_detail(filing_id), **LABELS)

    @post("/filings/{filing_id:int}/{step:str}", name="approvals_filing_step")
    async def filing_step(self, request: Request, filing_id: FromPath[int], step: FromPath[str]) -> Redirect:
        user = current_user(request)
        filing = await load_filing(user, filing_id)
        data, form = await _form(request)
        if step == "accept":
            data["missing"] = _ids(form.getall("missing")) if "missing" in form else []
            if not str(data.get("commitment_due") or "").strip():
                data.pop("commitment_due", None)
            await filings.accept(user, filing, parse(AcceptIn, data))
        elif step == "receive":
            await filings.receive(user, filing, parse(ReceiveIn, data))
        elif step == "grant":
            await filings.grant(user, filing)
        elif step == "refuse":
            await filings.refuse(user, filing, parse(RefuseIn, data))
        elif step == "case":
            case = await filings.open_case(user, filing, parse(CaseIn, data))
            return Redirect(path=f"{request.scope['state']['tenant_root']}cases/{case.id}", status_code=303)
        else:
            raise UserError(404, "Not found.")
        return Redirect(path=f"{_root(request)}filings/{filing_id}", status_code=303)

    # -- the catalogue and the bundles -----------------------------------------------------------

    @get("/catalogue", name="approvals_catalogue")
    async def catalogue_page(self, request: Request) -> object:
        require_any(current_user(request))
        return page(request, "approvals/catalogue.html", items=await catalogue.items(),
                    departments=await _departments(), **LABELS)

    @post("/catalogue", name="approvals_item_create")
    async def item_create(self, request: Request) -> Redirect:
        data, _ = await _form(request)
        materials = _lines(data.pop("key_materials", ""), True) + _lines(data.pop("other_materials", ""), False)
        form = parse(ItemIn, {**_optional_int(data, "department"), "materials": []})
        form.materials = materials
        await catalogue.create_item(current_user(request), form)
        return Redirect(path=f"{_root(request)}catalogue", status_code=303)

    @get("/bundles", name="approvals_bundles")
    async def bundles(self, request: Request) -> object:
        user = current_user(request)
        companies = await visible_companies(user)
        return page(request, "approvals/bundles.html", bundles=await views.bundles(),
                    bundle_filings=await views.bundle_filings(companies), items=await catalogue.items(), **LABELS)

    @post("/bundles", name="approvals_bundle_create")
    async def bundle_create(self, request: Request) -> Redirect:
        data, form = await _form(request)
        data["items"] = _ids(form.getall("items")) if "items" in form else []
        await filings.create_bundle(current_user(request), parse(BundleIn, data))
        return Redirect(path=f"{_root(request)}bundles", status_code=303)

    @post("/bundles/{bundle_id:int}/apply", name="approvals_bundle_apply")
    async def bundle_apply(self, request: Request, bundle_id: FromPath[int]) -> Redirect:
        user = current_user(request)
        bundle = await scoped(Bundle).objects().where(Bundle.id == bundle_id).first()
        if bundle is None:
            raise UserError(404, "Not found.")
        data, _ = await _form(request)
        bf = await filings.apply_bundle(user, bundle, parse(BundleApplyIn, _optional_int(data, "project")))
        return Redirect(path=f"{_root(request)}bundle-filings/{bf.id}", status_code=303)

    @get("/bundle-filings/{bundle_filing_id:int}", name="approvals_bundle_filing")
    async def bundle_filing(self, request: Request, bundle_filing_id: FromPath[int]) -> object:
        await load_bundle_filing(current_user(request), bundle_filing_id)
        return page(request, "approvals/bundle_filing.html", b=await views.bundle_filing_detail(bundle_filing_id),
                    **LABELS)
