"""Case pages: the dispatch console and workbenches (问题调度台), submitting, the case page with its
timeline and its steps, the sign-off inbox and the review docket.  Filters and steps use htmx."""

from __future__ import annotations

import uuid
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple

from jinja2 import pass_environment
from jinja2.filters import do_truncate
from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie, UploadFile
from litestar.params import FromPath, MultipartBody
from litestar.response import Redirect, Stream
from markupsafe import Markup, escape

from core.cases import advances, attachments, lifecycle, queries, redispatch, states as S
from core.cases.access import load_visible_case
from core.cases.actions import ACTIONS
from core.cases.queues import CASE_QUEUES, signable_case_ids
from core.cases.work_queue import REVIEW_QUEUES, review_query
from core.clock import today
from core.errors import UserError
from core.formats import date_filter, datetime_filter
from core.i18n import N_, current_locale, gettext
from core.open311 import intake as open311_intake
from core.paging import window
from core.plugins import get_plugin_manager
from core.prepared import Read, together
from core.workdays import load_calendar
from tenants.scope import current_tenant
from web.filters import fromjson, kept_text, localized_filter, status_badge, tr
from web.rendering import current_user, login_required, page, requires

REVIEWS_PER_PAGE = 50
NOT_A_SUBMITTER = N_("Only a company, or an assistant on its behalf, can submit a case.")
NOTICE = "qq_notice"  # a short-lived cookie: what the case page confirms after a redirect (submitted, a step)

# Buttons are verbs (interface.md, Words); the timeline keeps the past tense of ACTION_LABELS.
STEP_VERBS = {
    "attach-company": N_("Attach the company"), "dispatch": N_("Dispatch the case"), "accept": N_("Accept the case"),
    "object": N_("Object to the assignment"), "decide-objection": N_("Decide on the objection"),
    "extend": N_("Ask for more working days"), "decide-extension": N_("Decide on the extension"),
    "resolve": N_("Reply and resolve"), "refuse": N_("Say “no” (cannot be done)"), "sign": N_("Sign: agree"),
    "send-back": N_("Send the refusal back"), "request-review": N_("Ask for a refusal review"),
    "schedule-hearing": N_("Schedule the review hearing"), "rule": N_("Rule on the refusal"),
    "escalate": N_("Escalate the case"), "rate": N_("Rate the outcome"), "reopen": N_("Reopen the case"),
    "withdraw": N_("Withdraw the case"), "merge": N_("Merge into another case"), "redispatch": N_("Re-dispatch the case"),
    "advance": N_("Advance the cost and resolve"), "settle-advance": N_("Record the settlement"),
}
# The main step, when several are open: the first of these the user may take; the rest are "more actions".
MAIN_STEPS = ("attach-company", "dispatch", "decide-objection", "accept", "resolve", "sign", "decide-extension",
              "schedule-hearing", "rule", "rate", "request-review")
# Who acts next, by status: said when the user has nothing to do, and after each step.
NEXT = {
    S.SUBMITTED: N_("Next, the dispatcher sends it to the department that handles it."),
    S.DISPATCHED: N_("Next, a handler of the department accepts it."),
    S.IN_PROGRESS: N_("Next, the handler replies by the deadline."),
    S.REFUSAL_PENDING: N_("Next, the section head, the leader in charge and the department head sign the refusal, in turn."),
    S.REFUSED: N_("Next, the company may ask the review panel to review the refusal."),
    S.UNDER_REVIEW: N_("Next, the review panel holds a hearing and rules."),
    S.RESOLVED: N_("Next, the company rates the outcome."),
}
FLAGS = ("overdue", "escalated", "refused", "overturned", "mine")


def _filter_from(request: Request) -> queries.CaseFilter:
    q = request.query_params

    def number(name: str, default: int) -> int:
        try:
            return int(q.get(name) or default)
        except ValueError:
            return default

    return queries.CaseFilter(
        q=q.get("q", ""), status=q.get("status", ""), department=q.get("department", ""),
        category=q.get("category", ""), queue=q.get("queue", ""), sort=q.get("sort", "newest"), page=number("page", 1),
        per_page=number("per_page", 20), **{flag: q.get(flag) in ("1", "on", "true") for flag in FLAGS},
    ).normalized()


_BADGES: dict[str, dict[str, Markup]] = {}


def _status_badges() -> dict[str, Markup]:
    """Each case status's badge in the reader's language, made once per language: a console
    page shows twenty of them."""
    locale = current_locale.get()
    badges = _BADGES.get(locale)
    if badges is None:
        badges = _BADGES[locale] = {key: status_badge(key, label) for key, label in S.STATUS_LABELS.items()}
    return badges


@lru_cache(maxsize=4096)
def _day_in(locale: str, day: date) -> str:
    return date_filter(day)  # in the current locale, which is `locale`


def day_text(value) -> str:
    """`|date` of a day, kept per language and day: a console page shows twenty due dates, and
    the days a tenant's cases are due on are few."""
    if type(value) is not date:
        return date_filter(value)
    return _day_in(current_locale.get(), value)


def _action_words(feedback: dict[int, dict], actions: dict[str, str]) -> dict[str, Markup]:
    """Each latest feedback's action as the table's `_()` gives it (translated, a format string),
    once per action rather than once per row: a call in a loop costs Jinja a context."""
    words: dict[str, Markup] = {}
    for fb in feedback.values():
        action = fb["action"]
        if action not in words:
            words[action] = Markup(gettext(actions.get(action, action))) % {}
    return words


@pass_environment
def case_rows(env, rows: list[dict], root: str, labels: tuple, unconfirmed: Markup, flags: tuple, badges: dict,
              statuses: dict, feedback: dict, action_words: dict) -> Markup:
    """The console table's rows, each as `cases/_table.html` wrote it in its loop (the same
    bytes): a row there cost Jinja some twenty-five escapes, lookups and calls."""
    number, title, company, department, handler, status, due, flag_cell, latest = (str(label) for label in labels)
    overdue, escalated, refused, overturned = (str(flag) for flag in flags)
    root = str(escape(root))
    out: list[str] = []
    for r in rows:
        key = r["status"]
        fb = feedback.get(r["id"])
        if fb:
            reason = fb["reason"]
            fb_text = str(escape(action_words[fb["action"]])) + (
                f": {escape(do_truncate(env, reason, 40))}" if reason else "")
        else:
            fb_text = ""
        case_number = escape(r["number"])
        out.append(
            f'\n    <tr data-case="{case_number}">\n'
            f'      <td data-label="{number}"><a href="{root}cases/{escape(r["id"])}">{case_number}</a></td>\n'
            f'      <td class="title" data-label="{title}" data-user-text>{escape(r["title"])}</td>\n'
            f'      <td data-label="{company}">{escape(r["company_name"] or "—")}</td>\n'
            f'      <td data-label="{department}">{escape(localized_filter(r, "department_name") or "—")}</td>\n'
            f'      <td data-label="{handler}">{escape(r["handler_name"] or "—")}</td>\n'
            f'      <td data-label="{status}">{escape(badges.get(key) or status_badge(key, statuses.get(key)))}</td>\n'
            f'      <td class="text-nowrap" data-label="{due}">{escape(day_text(r["due_date"]))}'
            f'{unconfirmed if r["due_date"] and not r["due_confirmed"] else ""}</td>\n'
            f'      <td data-label="{flag_cell}">\n'
            f'        {overdue if r.get("overdue") else ""}\n'
            f'        {escalated if r.get("escalated") else ""}\n'
            f'        {refused if r.get("refused_count") else ""}\n'
            f'        {overturned if r.get("overturned") else ""}\n'
            f'      </td>\n'
            f'      <td data-label="{latest}">{fb_text}</td>\n'
            f'    </tr>\n  ')
    return Markup("".join(out))


def _query_of(f: queries.CaseFilter) -> dict[str, str]:
    """The filter as query parameters (without the page), for pagination links."""
    values = {"q": f.q, "status": f.status, "department": f.department, "category": f.category, "queue": f.queue,
              "sort": f.sort if f.sort != "newest" else "", "per_page": f.per_page if f.per_page != 20 else ""}
    values.update({flag: "1" for flag in FLAGS if getattr(f, flag)})
    return {k: str(v) for k, v in values.items() if v}


async def _form_dict(request: Request) -> dict[str, Any]:
    form = await request.form()
    return {k: v for k, v in form.items() if not isinstance(v, UploadFile) and k != "_csrf_token"}


class CasePages(Controller):
    path = "/t/{tenant:str}"
    include_in_schema = False  # pages; the OpenAPI schema documents the JSON API
    guards = [login_required]

    @get("/cases", name="cases")
    async def cases(self, request: Request) -> object:
        user = current_user(request)
        f = _filter_from(request)
        htmx = bool(request.headers.get("hx-request")) and not request.headers.get("hx-boosted")
        if not htmx and set(request.query_params) == {"q"}:
            # The top bar's search (only `q`): a case number the user may see opens that case.
            case_id = await queries.visible_case_number(user, f.q)
            if case_id is not None:
                return Redirect(path=f"{request.scope['state']['tenant_root']}cases/{case_id}", status_code=303)
        rows, total, feedback, choices = await queries.list_page(user, f, queries.choices())
        bulk = redispatch.may_redispatch(user) and (f.status == S.REFUSED or f.refused)
        actions = get_plugin_manager().event_labels
        return page(request, "cases/list.html", fragment="cases/_table.html", rows=rows, total=total, f=f,
                    redispatch_key=uuid.uuid4().hex if bulk else "", badges=_status_badges(), case_rows=case_rows,
                    feedback=feedback, pages=max(1, -(-total // f.per_page)), statuses=S.STATUS_LABELS,
                    filter_query=_query_of(f), count_oob=htmx, queue_label=CASE_QUEUES[f.queue][0] if f.queue else "",
                    actions=actions, action_words=_action_words(feedback, actions), **choices)

    @post("/cases/redispatch", name="cases_redispatch")
    async def redispatch(self, request: Request) -> object:
        """Bulk re-dispatch (批量二次交办) of the refused cases the console's filters select."""
        user = current_user(request)
        form = await _form_dict(request)
        f = queries.CaseFilter(**{name: form.get(name, "") for name in ("q", "status", "department", "category",
                                                                        "queue")},
                               **{flag: form.get(flag) in ("1", "on", "true") for flag in FLAGS})
        batch, _ = await redispatch.start(user, f, form.get("reason", ""), form.get("key", ""))
        return Redirect(path=f"{request.scope['state']['tenant_root']}cases/redispatch/{batch['id']}", status_code=303)

    @get("/cases/redispatch/{batch_id:int}", name="cases_redispatch_batch")
    async def redispatch_batch(self, request: Request, batch_id: FromPath[int]) -> object:
        batch = await redispatch.visible_view(current_user(request), batch_id)
        return page(request, "cases/redispatch.html", fragment="cases/_redispatch.html", batch=batch,
                    notes=redispatch.NOTES)

    @get("/cases/new", name="case_new", guards=[requires("case.submit_on_behalf", roles=("company",),
                                                          message=NOT_A_SUBMITTER)])
    async def new(self, request: Request) -> object:
        user = current_user(request)
        companies = await queries.own_companies(user.id)
        return page(request, "cases/new.html", companies=companies, on_behalf=not user.has_role("company"),
                    values={}, **await queries.choices())

    @post("/cases", name="case_submit")
    async def submit(self, request: Request,
                     data: MultipartBody[dict[str, Any]]) -> object:
        user = current_user(request)
        fields = {k: v for k, v in data.items() if isinstance(v, str)}
        uploads = [v for v in (data.get("files") if isinstance(data.get("files"), list) else [data.get("files")])
                   if isinstance(v, UploadFile) and v.filename]
        checked = [await attachments.check_upload(f) for f in uploads]
        case = await lifecycle.submit(user, fields)
        for upload, (_, content) in zip(uploads, checked):
            await attachments.store(case, user, upload.filename, content)
        return _to_case(request, case.id, "submitted")

    @get("/cases/{case_id:int}", name="case")
    async def detail(self, request: Request, case_id: FromPath[int]) -> object:
        return await _case_page(request, case_id)

    @post("/cases/{case_id:int}/{step:str}", name="case_step")
    async def step(self, request: Request, case_id: FromPath[int], step: FromPath[str]) -> object:
        user = current_user(request)
        data = await _form_dict(request)
        version = data.pop("version", None)
        try:
            version = int(version) if version not in (None, "") else None
        except ValueError:
            raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field="version") from None
        if step == "schedule-hearing" and len(data.get("hearing_at", "")) == 16:
            data["hearing_at"] += ":00+08:00"
        await lifecycle.perform(user, case_id, step, data, version)
        if request.headers.get("hx-request"):
            return await _case_page(request, case_id, fragment=True, done=step)
        return _to_case(request, case_id, step)

    @post("/cases/{case_id:int}/attachments", name="case_attach")
    async def attach(self, request: Request, case_id: FromPath[int],
                     data: MultipartBody[dict[str, Any]]) -> object:
        user = current_user(request)
        case = await load_visible_case(user, case_id)
        upload = data.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise UserError(400, "Choose a file to attach.", code="file_required")
        _, content = await attachments.check_upload(upload)
        await attachments.store(case, user, upload.filename, content)
        return Redirect(path=f"{request.scope['state']['tenant_root']}cases/{case_id}", status_code=303)

    @get("/cases/{case_id:int}/attachments/{attachment_id:int}", name="case_attachment", opt={"streams": True})
    async def download(self, request: Request, case_id: FromPath[int], attachment_id: FromPath[int]) -> Stream:
        row, chunks = await attachments.download(current_user(request), case_id, attachment_id)
        return Stream(chunks, media_type=row["mime"], headers={
            "Content-Disposition": attachments.disposition(row["filename"]),
            "Content-Security-Policy": "default-src 'none'; sandbox",
        })

    @get("/signoffs", name="signoffs")
    async def signoffs(self, request: Request) -> object:
        user = current_user(request)
        ids = await signable_case_ids(user)  # the same cases as the work queue's "to sign"
        rows = await queries.pending_refusals(ids)
        return page(request, "cases/signoffs.html", rows=rows)

    @get("/reviews", name="reviews", guards=[requires("review.rule")])
    async def reviews(self, request: Request) -> object:
        status = request.query_params.get("status", "")
        status = status if status in (*REVIEW_QUEUES, "ruled") else ""
        try:
            number = int(request.query_params.get("page") or 1)
        except ValueError:
            number = 1
        number, per_page = window(number, REVIEWS_PER_PAGE)
        rows = await review_query(status).limit(per_page).offset((number - 1) * per_page)
        total = await review_query(status, count=True)
        return page(request, "cases/reviews.html", rows=rows, verdicts=S.VERDICTS, status=status, total=total,
                    page_no=number, pages=max(1, -(-total // per_page)), review_queues=REVIEW_QUEUES)


def _to_case(request: Request, case_id: int, notice: str) -> Redirect:
    """Back to the case page, which then confirms `notice` (the submission, or the step taken) once."""
    path = f"{request.scope['state']['tenant_root']}cases/{case_id}"
    return Redirect(path=path, status_code=303, cookies=[
        Cookie(key=NOTICE, value=notice, path=path, max_age=120, httponly=True, samesite="lax")])


def split_steps(actions: list[str]) -> tuple[str | None, list[str]]:
    """The main step (the primary button) and the others (collapsed), in the lifecycle's order."""
    primary = next((name for name in MAIN_STEPS if name in actions), None)
    return primary, [name for name in actions if name != primary]


async def _submitted_notice(case) -> dict:
    """The deadline the confirmation names: the category's working days, counted from dispatch."""
    days = await queries.deadline_days(case.category)
    days = 5 if days is None else days
    return {"days": days, "estimate": (await load_calendar()).add_working_days(today(), days).date}


class TimelineEntry(NamedTuple):
    """One line of the case page's timeline, its words already in the reader's language: who acted
    (their name, or their role's label, or "System"), in what role, what they did, the status it led
    to, their reason and, for an automatic step, how late it came.  Markup where the template used to
    print `_()` (a translation is markup), plain text where it printed a name or a role's label."""

    action: str
    when: str
    who: str
    role: str | None
    what: Markup
    to: Markup | None
    reason: str | None
    late: str | None


LATE = N_("automatically, overdue by %(late_days)s working days")


def timeline_entries(rows: list[dict], statuses: dict[str, str], action_labels: dict[str, str]) -> list[TimelineEntry]:
    """The timeline's lines: a case has dozens of events, and the words of each were looked up one
    call at a time while rendering; here each role's label is looked up once per page and each
    action's and status's text once per locale."""
    roles = get_plugin_manager().roles
    role_labels: dict[str, str] = {}  # as the templates' role_label (web/app.py)
    entries = []
    for e in rows:
        actor_role, name = e["actor_role"], e["actor_name"]
        role = None
        if actor_role and actor_role != "system":
            role = role_labels.get(actor_role)
            if role is None:
                role = role_labels[actor_role] = gettext(roles[actor_role].label if actor_role in roles else "System")
        after, data, late = e["after"], e["data"], None
        if data and "late_days" in data:
            params = fromjson(data)
            if params.get("late_days"):
                late = tr(LATE, params)
        entries.append(TimelineEntry(
            action=e["action"], when=datetime_filter(e["created_at"]),
            who=name or (role if role is not None else kept_text("System")),
            role=role if name else None,
            what=kept_text(action_labels.get(e["action"], e["action"])),
            to=kept_text(statuses.get(after, after)) if after and after != e["before"] else None,
            reason=e["reason"], late=late,
        ))
    return entries


async def _case_page(request: Request, case_id: int, fragment: bool = False, done: str | None = None) -> object:
    user = current_user(request)
    # A viewer who sees every case reads the case with its page, in one round trip; others first
    # learn whether they may see it.
    sees_all = user.can("case.view_all")
    case = None if sees_all else await load_visible_case(user, case_id)
    notice = None if fragment else request.cookies.get(NOTICE)
    if notice in ACTIONS:
        done = notice
    company_view = queries.is_company_view(user)
    found, row, timeline, refusals, reviews, files, choices, intake, advance = await together(
        queries.case_object(case_id) if sees_all else Read.value(case), queries.case_page_row(case_id),
        queries.timeline(case_id, company_view), queries.refusals_of(case_id, final_only=company_view),
        queries.reviews_of(case_id), attachments.list_for(case_id), queries.choices(),
        Read.value(None) if company_view else open311_intake(case_id),
        advances.advance_read(case_id) if user.has_role(*advances.ROLES) else Read.value(advances.UNREAD))
    if found is None:
        raise UserError(404, "Not found.")
    case = found
    actions = await lifecycle.available_actions(user, case, advance)
    primary, secondary = split_steps(actions)
    module_actions = [a for a in get_plugin_manager().case_actions(current_tenant(), user, case)
                      if a.shown is None or await a.shown(case)]
    context = dict(
        case=row, timeline=timeline_entries(timeline, S.STATUS_LABELS, get_plugin_manager().event_labels), actions=actions, primary=primary, secondary=secondary, step_verbs=STEP_VERBS,
        done=done if done in ACTIONS else None, next_text=NEXT.get(case.status, ""),
        submitted_notice=await _submitted_notice(case) if notice == "submitted" else None, refusals=refusals,
        reviews=reviews, files=files, statuses=S.STATUS_LABELS, action_labels=get_plugin_manager().event_labels,
        level_labels=S.LEVEL_LABELS, ratings=S.RATINGS, verdicts=S.VERDICTS, **choices,
        intake=intake, module_actions=module_actions,
    )
    context["lead_department"], context["co_departments"] = queries.dispatch_choice(row, choices["departments"])
    if fragment:
        return page(request, "cases/_case.html", **context)
    response = page(request, "cases/detail.html", **context)
    if notice:
        response.delete_cookie(NOTICE, path=request.url.path)
    return response
