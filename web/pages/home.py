"""The tenant's home — the user's work queue (我的待办) with the modules' cards below it — the
set-up health the tenant admin's queue links to, and the notification inbox (消息)."""

from __future__ import annotations

import re

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from core import inbox
from core.cases import escalation, queries, states as S
from core.cases.work_queue import categories_without_lead, departments_short, work_queue
from core.i18n import gettext
from core.paging import window
from core.plugins import get_plugin_manager
from web.errors import UserError
from web.filters import number_filter
from web.rendering import current_user, login_required, nav_counts, page, requires, tenant_of

PER_PAGE = 50


def q_key(href: str) -> str:
    return href.split("queue=", 1)[1].split("&", 1)[0]


async def _case_titles(user, rows: list[dict]) -> dict[str, str]:
    """The titles of the cases the notifications link to (that the user may still see), by link."""
    ids = {int(r["link"].split("/")[1]) for r in rows if re.fullmatch(r"cases/\d+", r["link"] or "")}
    return {f"cases/{case_id}": title for case_id, title in (await queries.visible_titles(user, sorted(ids))).items()}


class HomeController(Controller):
    path = "/t/{tenant:str}"
    include_in_schema = False  # pages; the OpenAPI schema documents the JSON API

    @get("/", name="home")
    async def home(self, request: Request) -> object:
        user = current_user(request)
        if user is None:
            expired = bool(request.scope["state"].get("session_expired"))
            return page(request, "login.html", next="", expired=expired, error=None, username="")
        tenant = tenant_of(request)
        queues = await work_queue(tenant, user)
        widgets = []
        for widget in get_plugin_manager().widgets(tenant, user):
            if widget.key != "core_todo":  # the work queue above says the same, counted once
                widgets.append((widget, await widget.load(tenant, user)))
        can_submit = user.has_role("company") or user.can("case.submit_on_behalf")
        # The oldest cases of the first case queue with work in it, to start from.
        first = next((q for q in queues if q.mine and q.count and q.href.startswith("cases/?queue=")), None)
        oldest = (await queries.list_cases(user, queries.CaseFilter(
            queue=q_key(first.href), sort="oldest", per_page=5)))[0] if first else []
        return page(request, "home.html", queues=queues, widgets=widgets, can_submit=can_submit,
                    waiting=sum(q.count for q in queues if q.mine), first=first, oldest=oldest,
                    statuses=S.STATUS_LABELS)

    @get("/setup", name="setup_health", guards=[requires("tenant.admin")])
    async def setup(self, request: Request) -> object:
        """Set-up health (配置检查): departments that cannot staff their chain, categories without a lead."""
        show = request.query_params.get("show", "")
        departments = await departments_short() if show in ("", "departments") else None
        categories = await categories_without_lead() if show in ("", "categories") else None
        fallback = await escalation.warnings() if show in ("", "escalation") else None
        return page(request, "setup.html", show=show, departments=departments, categories=categories,
                    fallback=fallback, district_leader=(await escalation.district_leader())[1])

    @get("/notifications", name="notifications", guards=[login_required])
    async def notifications(self, request: Request) -> object:
        user = current_user(request)
        try:
            number = int(request.query_params.get("page") or 1)
        except ValueError:
            number = 1
        number, per_page = window(number, PER_PAGE)
        unread_only = request.query_params.get("unread") == "1"
        listed = await inbox.inbox_page(user.id, number, per_page, unread_only)
        return page(request, "notifications.html", notifications=listed.rows, unread=listed.unread,
                    total=listed.total, page_no=number, pages=max(1, -(-listed.total // per_page)),
                    unread_only=unread_only, case_titles=await _case_titles(user, listed.rows))

    @get("/notifications/unread", name="notifications_unread", guards=[login_required])
    async def unread(self, request: Request) -> dict:
        """The top bar's badge (app.js asks after the page loaded, so no page waits for it)."""
        return {"unread": await inbox.unread_count(current_user(request).id)}

    @get("/nav/counts", name="nav_counts", guards=[login_required])
    async def nav_counts(self, request: Request) -> dict:
        """The side navigation's counts (app.js asks after the page loaded, as for the unread count):
        by item href, what waits there for the user — the work queue's own count, as on the home page."""
        tenant, user = tenant_of(request), current_user(request)
        items = get_plugin_manager().navigation(tenant, user)
        waiting = nav_counts(items, await work_queue(tenant, user))
        return {"items": [{"href": href, "queue": q.key, "count": q.count, "shown": number_filter(q.count),
                           "label": gettext(q.label),
                           "text": gettext("(%(queue)s: %(count)s waiting)", queue=gettext(q.label),
                                           count=number_filter(q.count))}
                          for href, q in waiting.items() if q.count]}

    @post("/notifications/read-all", name="notifications_read_all", guards=[login_required])
    async def mark_all_read(self, request: Request) -> object:
        await inbox.mark_all_read(current_user(request).id)
        return Redirect(path=f"{request.scope['state'].get('tenant_root') or '/'}notifications/", status_code=303)

    @post("/notifications/{notification_id:int}/read", name="notification_read", guards=[login_required])
    async def mark_read(self, request: Request, notification_id: FromPath[int]) -> object:
        row = await inbox.mark_read(current_user(request).id, notification_id)
        if row is None:
            raise UserError(404, "Not found.")
        return page(request, "notifications.html", fragment="_notification.html", n=row)
