"""Pages of the cadre module under ``/t/<slug>/cadre/``: the organization department's campaign
board, a campaign with its evidence sheets, scoring, ratings and outcomes (and its XLSX export),
the cadre list and a cadre's file (档案), and the fault-tolerance docket (容错免责).  A cadre
with only their own view lands on their own file."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from core.sdk import Membership, User, UserError, current_user, login_required, page, scoped
from plugins.cadre import campaigns, labels, publicity, queue, tolerance, views
from plugins.cadre.access import is_org, own_cadre_id, require, require_any, require_cadre_reader
from plugins.cadre.evidence import FIELDS
from plugins.cadre.export import campaign_xlsx

LABELS = dict(ratings=labels.RATINGS, outcomes=labels.OUTCOMES, criteria_labels=labels.SCORE_CRITERIA,
              distinctions=labels.DISTINCTIONS, tolerance_criteria=labels.TOLERANCE_CRITERIA,
              app_statuses=labels.APPLICATION_STATUSES, decisions=labels.DECISIONS,
              campaign_statuses=labels.CAMPAIGN_STATUSES, fields=FIELDS, kinds=labels.PUBLICITY_KINDS,
              publicity_statuses=labels.PUBLICITY_STATUSES, objection_statuses=labels.OBJECTION_STATUSES)


async def _form(request: Request) -> dict:
    form = await request.form()
    data = {k: v for k, v in form.items() if k != "_csrf_token"}
    for key in ("cadres", "evaluators"):
        if key in form:
            data[key] = form.getall(key)
    return data


SHEETS_PER_PAGE = 20
PER_PAGE = 50


def _page_number(request: Request) -> int:
    try:
        return min(100_000, max(1, int(request.query_params.get("page") or 1)))
    except ValueError:
        return 1


def _paged(rows: list, number: int, per_page: int) -> dict:
    """One page of `rows` (already in order), with the total and the number of pages."""
    start = (number - 1) * per_page
    return {"rows": rows[start:start + per_page], "total": len(rows), "page_no": number,
            "pages": max(1, -(-len(rows) // per_page))}


def _root(request: Request) -> str:
    return f"{request.scope['state']['tenant_root']}cadre/"


async def _staff() -> list[dict]:
    """Staff of this tenant, then of its townships (each read in its own scope), to add as cadres."""
    members = await scoped(Membership).select(Membership.user, Membership.role)
    ids = sorted({m["user"] for m in members if m["role"] != "company"})
    own = await User.select(User.id, User.display_name, User.username).where(User.id.is_in(ids)) if ids else []
    townships = [t for t in await campaigns.township_staff() if t["user"] not in set(ids)]
    names = {u["id"]: u for u in await User.select(User.id, User.display_name, User.username).where(
        User.id.is_in([t["user"] for t in townships]))} if townships else {}
    return own + [{**names[t["user"]], **t} for t in townships if t["user"] in names]


async def _evaluator_users() -> list[dict]:
    """Who may evaluate, each with the role that allows it (考察人员 or 组织部门), to tell them apart."""
    members = await scoped(Membership).select(Membership.user, Membership.role).where(
        Membership.role.is_in(list(campaigns.EVALUATOR_ROLES)))
    role_of: dict[int, str] = {}
    for m in sorted(members, key=lambda m: campaigns.EVALUATOR_ROLES.index(m["role"])):
        role_of.setdefault(m["user"], m["role"])
    if not role_of:
        return []
    users = await User.select(User.id, User.display_name).where(User.id.is_in(sorted(role_of)))
    return [{**u, "role_label": labels.EVALUATOR_ROLES[role_of[u["id"]]]} for u in users]


class CadrePages(Controller):
    path = "/"
    guards = [login_required]

    @get("/", name="cadre_home")
    async def home(self, request: Request) -> object:
        user = current_user(request)
        require_any(user)
        if not is_org(user):
            own = await own_cadre_id(user)
            if own is None:
                raise UserError(404, "Not found.")
            return Redirect(path=f"{_root(request)}cadres/{own}", status_code=303)
        status = request.query_params.get("status", "")
        rows = await views.list_campaigns()
        if status in labels.CAMPAIGN_STATUSES:
            rows = [r for r in rows if r["status"] == status]
        else:
            status = ""
        return page(request, "cadre/board.html", campaigns=rows, status=status,
                    cadres=await campaigns.list_cadres(), evaluators=await _evaluator_users(), **LABELS)

    @get("/to-score", name="cadre_to_score")
    async def to_score(self, request: Request) -> object:
        """The evaluator's queue: cadres of open campaigns not scored yet."""
        user = current_user(request)
        require(user, "cadre.evaluate")
        return page(request, "cadre/to_score.html", **_paged(await queue.to_score(user), _page_number(request),
                                                             PER_PAGE))

    @post("/campaigns", name="cadre_campaign_create")
    async def create(self, request: Request) -> Redirect:
        row = await campaigns.create_campaign(current_user(request), await _form(request))
        return Redirect(path=f"{_root(request)}campaigns/{row.id}", status_code=303)

    @get("/campaigns/{campaign_id:int}", name="cadre_campaign")
    async def campaign(self, request: Request, campaign_id: FromPath[int]) -> object:
        await campaigns.get_campaign(campaign_id)
        require(current_user(request), "cadre.view")
        detail = await views.campaign_detail(campaign_id)
        number = _page_number(request)
        wanted = request.query_params.get("sheet", "")
        at = next((i for i, s in enumerate(detail["sheets"]) if str(s["id"]) == wanted), None)
        if at is not None:  # a link to one sheet (the evaluator's queue) opens the page holding it
            number = at // SHEETS_PER_PAGE + 1
        paged = _paged(detail["sheets"], number, SHEETS_PER_PAGE)
        detail["sheets"] = paged.pop("rows")  # the totals above count every sheet; the sheets come a page at a time
        return page(request, "cadre/campaign.html", c=detail, **paged,
                    cadres=await campaigns.list_cadres(), evaluators=await _evaluator_users(), **LABELS)

    @post("/campaigns/{campaign_id:int}/{step:str}", name="cadre_campaign_step")
    async def campaign_step(self, request: Request, campaign_id: FromPath[int], step: FromPath[str]) -> Redirect:
        data = await _form(request)
        await campaigns.step(current_user(request), campaign_id, step, data)
        await publicity.after_step(campaign_id, step, data)
        return Redirect(path=f"{_root(request)}campaigns/{campaign_id}", status_code=303)

    @get("/campaigns/{campaign_id:int}/export.xlsx", name="cadre_campaign_export")
    async def export(self, request: Request, campaign_id: FromPath[int]) -> object:
        await campaigns.get_campaign(campaign_id)
        require(current_user(request), "cadre.view")
        return await campaign_xlsx(campaign_id)

    @get("/cadres", name="cadre_list")
    async def cadres(self, request: Request) -> object:
        require(current_user(request), "cadre.view")
        paged = _paged(await campaigns.list_cadres(), _page_number(request), PER_PAGE)
        return page(request, "cadre/cadres.html", cadres=paged.pop("rows"), **paged, staff=await _staff())

    @post("/cadres", name="cadre_save")
    async def save_cadre(self, request: Request) -> Redirect:
        row = await campaigns.save_cadre(current_user(request), await _form(request))
        return Redirect(path=f"{_root(request)}cadres/{row.id}", status_code=303)

    @get("/cadres/{cadre_id:int}", name="cadre_file")
    async def cadre_file(self, request: Request, cadre_id: FromPath[int]) -> object:
        await campaigns.get_cadre(cadre_id)
        await require_cadre_reader(current_user(request), cadre_id)
        return page(request, "cadre/file.html", f=await views.cadre_file(cadre_id), **LABELS)

    @get("/applications", name="cadre_docket")
    async def docket(self, request: Request) -> object:
        user = current_user(request)
        require_any(user)
        own = await own_cadre_id(user)
        rows = await views.list_applications() if is_org(user) else (
            await views.list_applications(own) if own is not None else [])
        status = request.query_params.get("status", "")
        if status == "undecided":  # the work queue's list: not final yet
            rows = [r for r in rows if r["status"] in queue.UNDECIDED]
        elif status in labels.APPLICATION_STATUSES:
            rows = [r for r in rows if r["status"] == status]
        else:
            status = ""
        paged = _paged(rows, _page_number(request), PER_PAGE)
        return page(request, "cadre/docket.html", rows=paged.pop("rows"), own=own, status=status, **paged,
                    cadres=await campaigns.list_cadres() if user.can("cadre.manage") else [], **LABELS)

    @post("/applications", name="cadre_apply")
    async def apply(self, request: Request) -> Redirect:
        row = await tolerance.apply(current_user(request), await _form(request))
        return Redirect(path=f"{_root(request)}applications/{row.id}", status_code=303)

    @get("/applications/{application_id:int}", name="cadre_application")
    async def application(self, request: Request, application_id: FromPath[int]) -> object:
        await tolerance.require_application_reader(current_user(request), application_id)
        return page(request, "cadre/application.html", a=await views.application_detail(application_id),
                    required=tolerance.required_criteria(), publicity=await publicity.of_application(application_id),
                    **LABELS)

    @post("/applications/{application_id:int}/{step:str}", name="cadre_application_step")
    async def application_step(self, request: Request, application_id: FromPath[int], step: FromPath[str]) -> Redirect:
        await tolerance.step(current_user(request), application_id, step, await _form(request))
        return Redirect(path=f"{_root(request)}applications/{application_id}", status_code=303)

    @get("/objections", name="cadre_objections")
    async def objections(self, request: Request) -> object:
        """Objections (异议) to publicity, for the organization department to answer."""
        require(current_user(request), "cadre.view")
        status = request.query_params.get("status", "")
        status = status if status in labels.OBJECTION_STATUSES else ""
        paged = _paged(await publicity.objections(status), _page_number(request), PER_PAGE)
        return page(request, "cadre/objections.html", rows=paged.pop("rows"), status=status, **paged, **LABELS)

    @post("/objections/{objection_id:int}/answer", name="cadre_objection_answer")
    async def answer(self, request: Request, objection_id: FromPath[int]) -> Redirect:
        await publicity.answer(current_user(request), objection_id, await _form(request))
        return Redirect(path=f"{_root(request)}objections", status_code=303)
