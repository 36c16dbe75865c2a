"""Pages of the liaison network under ``/t/<slug>/liaison/``: the workbench (assistant, company,
coordinator), the network view with pairing and bulk pairing, a company's page with needs, visits
and follow-ups, and the training salons."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, MultipartBody, URLEncodedBody
from litestar.response import Redirect

from core.sdk import (
    N_,
    Category,
    ImportJob,
    UserError,
    current_user,
    job_view,
    login_required,
    page,
    requires,
    scoped,
    today,
    upload_limit,
    uploaded_file,
)
from plugins.liaison import consult, inbox, pairing, pairing_import, queue, salons, views, village, work
from plugins.liaison.access import visible_company, visible_company_ids
from plugins.liaison.tables import (
    CHANNEL_LABELS,
    CONSULTATION_LABELS,
    FIELD_LABELS,
    NEED_LABELS,
    PERSON_LABELS,
    SEAT_LABELS,
    VILLAGE_LABELS,
    Person,
)

LABELS = dict(channels=CHANNEL_LABELS, need_labels=NEED_LABELS, person_labels=PERSON_LABELS,
              field_labels=FIELD_LABELS, seat_labels=SEAT_LABELS, village_labels=VILLAGE_LABELS,
              consultation_labels=CONSULTATION_LABELS)


def _form(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "_csrf_token" and v != ""}


def _back(request: Request, path: str) -> Redirect:
    return Redirect(path=f"{request.scope['state']['tenant_root']}liaison/{path}", status_code=303)


def _number(value: str, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field=field) from None


def _page_number(request: Request) -> int:
    try:
        return min(100_000, max(1, int(request.query_params.get("page") or 1)))
    except ValueError:
        return 1


def _paged(rows: list, number: int) -> tuple[list, int, int]:
    """One page of `rows` (already in order): the rows, the total and the number of pages."""
    start = (number - 1) * queue.PER_PAGE
    return rows[start:start + queue.PER_PAGE], len(rows), max(1, -(-len(rows) // queue.PER_PAGE))


def _require_network(request: Request) -> None:
    user = current_user(request)
    if not (user.can("liaison.view") or user.has_role("company")):
        raise UserError(403, "You are not allowed to do this.")


async def _categories() -> list[dict]:
    return await scoped(Category).select(Category.code, Category.name_zh, Category.name_en).where(
        Category.active == True).order_by(Category.id)  # noqa: E712


async def visible_company_ids_for_asking(user) -> list[int] | None:
    """The companies `user` may ask a consultation for (None: any of the tenant's)."""
    if user.can("liaison.run") or user.can("liaison.coordinate"):
        return None
    if user.can("liaison.assist") or user.has_role("company"):
        return await visible_company_ids(user) or []
    return []


class LiaisonPages(Controller):
    path = "/"
    guards = [login_required]

    @get("/", name="liaison_home")
    async def home(self, request: Request) -> object:
        _require_network(request)
        user = current_user(request)
        show, number = request.query_params.get("show", ""), _page_number(request)
        if show in ("needs", "follow_ups"):  # one of the work queue's lists, paged
            rows, total = await (queue.needs if show == "needs" else queue.follow_ups_due)(user, number)
            return page(request, "liaison/queue.html", show=show, rows=rows, total=total, page_no=number,
                        pages=max(1, -(-total // queue.PER_PAGE)), today=today(), **LABELS)
        return page(request, "liaison/index.html", **await views.workbench(user), **LABELS)

    @get("/network", name="liaison_network", guards=[requires("liaison.coordinate")])
    async def network(self, request: Request) -> object:
        from core.sdk import User, members_with_role

        ids = await members_with_role("liaison_assistant")
        assistants = await User.select(User.id, User.display_name).where(User.id.is_in(ids or [-1]))
        show, number = request.query_params.get("show", ""), _page_number(request)
        data = await views.network()
        listed, title = None, ""
        if show == "unpaired":
            listed, title = data["unpaired"], N_("Companies without an assistant")
        elif show == "unvisited":
            listed, title = await queue.unvisited(), N_("Companies not visited lately")
        elif show == "assistant":
            wanted = request.query_params.get("assistant", "")
            found = next((a for a in data["assistants"] if str(a["id"]) == wanted), None)
            if found is None:
                raise UserError(404, "Not found.")
            listed, title = found["companies"], found["name"]
        context = dict(data, all_assistants=assistants, fields=consult.fields(), show=show if listed is not None else "", title=title,
                       assistant=request.query_params.get("assistant", ""), **LABELS)
        if listed is not None:
            context["rows"], context["total"], context["pages"] = _paged(listed, number)
            context["page_no"] = number
        return page(request, "liaison/network.html", **context)

    @post("/pairings", name="liaison_pair")
    async def pair(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Redirect:
        await pairing.pair(current_user(request), _number(data.get("company"), "company"),
                           _number(data.get("assistant"), "assistant"), data.get("reason", ""))
        return _back(request, "network")

    @post("/pairings/import", name="liaison_pair_import", **upload_limit(pairing_import.MAX_BYTES))
    async def pair_import(self, request: Request, data: MultipartBody[dict[str, Any]]) -> Redirect:
        """Store the file and queue the bulk pairing; the job's page shows progress and the report."""
        upload = uploaded_file(data)
        job = await pairing_import.start_pairing_import(current_user(request), upload.filename, upload.file)
        return _back(request, f"imports/{job.id}")

    @get("/imports/{job_id:int}", name="liaison_pair_import_job", guards=[requires("liaison.coordinate")])
    async def pair_import_job(self, request: Request, job_id: FromPath[int]) -> object:
        job = await scoped(ImportJob).select().where(
            (ImportJob.id == job_id) & (ImportJob.kind == pairing_import.KIND)).first()
        if job is None:
            raise UserError(404, "Not found.")
        return page(request, "liaison/import.html", fragment="liaison/_import.html", job=job_view(job))

    @post("/people", name="liaison_person_add", guards=[requires("liaison.coordinate")])
    async def add_person(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Redirect:
        kind, name = data.get("kind", ""), data.get("name", "").strip()
        if kind not in PERSON_LABELS or not name or len(name) > 100:
            raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field="name")
        known = consult.fields()
        fields = ",".join(f.strip() for f in data.get("fields", "").replace("，", ",").split(",") if f.strip() in known)
        await scoped(Person).add(kind=kind, name=name, phone=data.get("phone", "")[:30],
                                 village=data.get("village", "")[:100], industry=data.get("industry", "")[:100],
                                 fields=fields)
        return _back(request, "network")

    # -- a company --------------------------------------------------------------------------------

    @get("/companies/{company_id:int}", name="liaison_company")
    async def company(self, request: Request, company_id: FromPath[int]) -> object:
        company = await visible_company(current_user(request), company_id)
        return page(request, "liaison/company.html", company=company, **await views.company_page(company_id),
                    categories=await _categories(), **LABELS)

    @post("/companies/{company_id:int}/needs", name="liaison_need_add")
    async def add_need(self, request: Request, company_id: FromPath[int],
                       data: URLEncodedBody[dict[str, str]]) -> Redirect:
        await work.record_need(current_user(request), company_id, _form(data))
        return _back(request, f"companies/{company_id}")

    @post("/companies/{company_id:int}/visits", name="liaison_visit_add")
    async def add_visit(self, request: Request, company_id: FromPath[int],
                        data: URLEncodedBody[dict[str, str]]) -> Redirect:
        await work.log_visit(current_user(request), company_id, _form(data))
        return _back(request, f"companies/{company_id}")

    @post("/needs/{need_id:int}/file", name="liaison_need_file")
    async def file_need(self, request: Request, need_id: FromPath[int],
                        data: URLEncodedBody[dict[str, str]]) -> Redirect:
        case = await work.file_need(current_user(request), need_id, data.get("category", ""))
        return Redirect(path=f"{request.scope['state']['tenant_root']}cases/{case.id}", status_code=303)

    @post("/needs/{need_id:int}/answer", name="liaison_need_answer")
    async def answer_need(self, request: Request, need_id: FromPath[int],
                          data: URLEncodedBody[dict[str, str]]) -> Redirect:
        need = await work.answer_need(current_user(request), need_id, data.get("answer", ""))
        return _back(request, f"companies/{need.company}")

    @post("/follow-ups/{follow_up_id:int}/done", name="liaison_follow_up_done")
    async def follow_up_done(self, request: Request, follow_up_id: FromPath[int]) -> Redirect:
        row = await work.finish_follow_up(current_user(request), follow_up_id)
        return _back(request, f"companies/{row.company}")

    @post("/follow-ups/{follow_up_id:int}/file", name="liaison_follow_up_file")
    async def follow_up_file(self, request: Request, follow_up_id: FromPath[int],
                             data: URLEncodedBody[dict[str, str]]) -> Redirect:
        case = await work.file_follow_up(current_user(request), follow_up_id, data.get("category", ""))
        return Redirect(path=f"{request.scope['state']['tenant_root']}cases/{case.id}", status_code=303)

    @post("/companies/{company_id:int}/messages", name="liaison_message_send")
    async def send_message(self, request: Request, company_id: FromPath[int],
                           data: URLEncodedBody[dict[str, str]]) -> Redirect:
        await inbox.send(current_user(request), company_id, _form(data))
        return _back(request, f"companies/{company_id}")

    # -- village runners (村社助跑员) ----------------------------------------------------------------

    @get("/village", name="liaison_village", guards=[requires("liaison.run")])
    async def village_list(self, request: Request) -> object:
        user = current_user(request)
        show = "logged" if request.query_params.get("show") == "logged" else ""
        rows = await village.needs(user, show)
        return page(request, "liaison/village.html", rows=rows, total=len(rows), show=show,
                    companies=await village.companies(), categories=await _categories(), **LABELS)

    @post("/village", name="liaison_village_log", guards=[requires("liaison.run")])
    async def village_log(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Redirect:
        await village.log_need(current_user(request), _form(data))
        return _back(request, "village")

    @post("/village/{need_id:int}/hand-over", name="liaison_village_hand_over", guards=[requires("liaison.run")])
    async def village_hand_over(self, request: Request, need_id: FromPath[int]) -> Redirect:
        await village.hand_over(current_user(request), need_id)
        return _back(request, "village")

    @post("/village/{need_id:int}/file", name="liaison_village_file", guards=[requires("liaison.run")])
    async def village_file(self, request: Request, need_id: FromPath[int],
                           data: URLEncodedBody[dict[str, str]]) -> Redirect:
        case = await village.file(current_user(request), need_id, data.get("category", ""))
        return Redirect(path=f"{request.scope['state']['tenant_root']}cases/{case.id}", status_code=303)

    # -- consultations (百晓长 / 百晓小分队) ------------------------------------------------------------

    @get("/consultations", name="liaison_consultations")
    async def consultations(self, request: Request) -> object:
        _require_network(request)
        user = current_user(request)
        show = request.query_params.get("show", "")
        show = show if show in ("open", "overdue") else ""
        rows = await consult.listing(user, show)
        companies = await views.companies_of(await visible_company_ids_for_asking(user))
        return page(request, "liaison/consultations.html", rows=rows, total=len(rows), show=show, today=today(),
                    fields=consult.fields(), companies=companies, experts=set(await consult.my_experts(user)),
                    **LABELS)

    @post("/consultations", name="liaison_consultation_ask")
    async def consultation_ask(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Redirect:
        _require_network(request)
        await consult.ask(current_user(request), _form(data))
        return _back(request, "consultations")

    @post("/consultations/{consultation_id:int}/answer", name="liaison_consultation_answer",
          guards=[requires("liaison.lead")])
    async def consultation_answer(self, request: Request, consultation_id: FromPath[int],
                                  data: URLEncodedBody[dict[str, str]]) -> Redirect:
        await consult.answer(current_user(request), consultation_id, data.get("answer", ""))
        return _back(request, "consultations?show=open")

    # -- the company liaison (企业联络员) ----------------------------------------------------------------

    @get("/inbox", name="liaison_inbox", guards=[requires("portal.view")])
    async def inbox_page(self, request: Request) -> object:
        user = current_user(request)
        unreplied = request.query_params.get("show") == "unreplied"
        try:
            data = await inbox.inbox(user, unreplied)
        except UserError as exc:
            if exc.status_code != 403:
                raise
            data = {"companies": [], "messages": [], "visits": []}  # not a named liaison: nothing here
        return page(request, "liaison/inbox.html", **data, total=len(data["messages"]), unreplied=unreplied,
                    categories=await _categories(), **LABELS)

    @post("/messages/{message_id:int}/reply", name="liaison_message_reply", guards=[requires("portal.view")])
    async def reply(self, request: Request, message_id: FromPath[int],
                    data: URLEncodedBody[dict[str, str]]) -> Redirect:
        await inbox.reply(current_user(request), message_id, _form(data))
        return _back(request, "inbox")

    @post("/inbox/{company_id:int}/file", name="liaison_inbox_file", guards=[requires("portal.view")])
    async def inbox_file(self, request: Request, company_id: FromPath[int],
                         data: URLEncodedBody[dict[str, str]]) -> Redirect:
        case = await inbox.file(current_user(request), company_id, _form(data))
        return Redirect(path=f"{request.scope['state']['tenant_root']}cases/{case.id}", status_code=303)

    # -- salons -----------------------------------------------------------------------------------

    @get("/salons", name="liaison_salons")
    async def salon_list(self, request: Request) -> object:
        _require_network(request)
        upcoming = request.query_params.get("show") == "upcoming"
        rows = await queue.upcoming_salons() if upcoming else await salons.salons()
        return page(request, "liaison/salons.html", salons=rows, totals=await salons.totals_per_year(),
                    upcoming=upcoming)

    @post("/salons", name="liaison_salon_add")
    async def salon_add(self, request: Request, data: URLEncodedBody[dict[str, str]]) -> Redirect:
        salon = await salons.create_salon(current_user(request), _form(data))
        return _back(request, f"salons/{salon.id}")

    @get("/salons/{salon_id:int}", name="liaison_salon")
    async def salon(self, request: Request, salon_id: FromPath[int]) -> object:
        salon = await salons.get_salon(salon_id)
        _require_network(request)
        return page(request, "liaison/salon.html", salon=salon, seats=await salons.seats(salon_id), **LABELS)

    @post("/salons/{salon_id:int}/signup", name="liaison_salon_signup")
    async def signup(self, request: Request, salon_id: FromPath[int],
                     data: URLEncodedBody[dict[str, str]]) -> Redirect:
        await salons.get_salon(salon_id)
        _require_network(request)
        await salons.sign_up(current_user(request), salon_id, data.get("name", ""), data.get("kind", ""))
        return _back(request, f"salons/{salon_id}")

    @post("/salons/{salon_id:int}/attendance", name="liaison_salon_attendance")
    async def attendance(self, request: Request, salon_id: FromPath[int]) -> Redirect:
        form = await request.form()
        seat_ids = [_number(v, "seat") for v in form.getall("seat")] if "seat" in form else []
        await salons.mark_attendance(current_user(request), salon_id, seat_ids)
        return _back(request, f"salons/{salon_id}")
