"""The tenant's home (工作台 dashboard) and the notification inbox (消息)."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from core.clock import now
from core.plugins import get_plugin_manager
from core.tables import Notification
from tenants.scope import scoped
from web.errors import UserError
from web.rendering import current_user, login_required, page, tenant_of


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
        widgets = []
        for widget in get_plugin_manager().widgets(tenant, user):
            widgets.append((widget, await widget.load(tenant, user)))
        return page(request, "home.html", widgets=widgets)

    @get("/notifications", name="notifications", guards=[login_required])
    async def notifications(self, request: Request) -> object:
        user = current_user(request)
        rows = await scoped(Notification).select().where(Notification.user == user.id).order_by(
            Notification.id, ascending=False
        ).limit(100)
        return page(request, "notifications.html", notifications=rows, unread=sum(1 for r in rows if not r["read_at"]))

    @get("/notifications/unread", name="notifications_unread", guards=[login_required])
    async def unread(self, request: Request) -> dict:
        """The top bar's badge (app.js asks after the page loaded, so no page waits for it)."""
        user = current_user(request)
        count = await scoped(Notification).count().where(
            (Notification.user == user.id) & Notification.read_at.is_null())
        return {"unread": count}

    @post("/notifications/read-all", name="notifications_read_all", guards=[login_required])
    async def mark_all_read(self, request: Request) -> object:
        user = current_user(request)
        await scoped(Notification).update({Notification.read_at: now()}).where(
            (Notification.user == user.id) & Notification.read_at.is_null())
        return Redirect(path=f"{request.scope['state'].get('tenant_root') or '/'}notifications/", status_code=303)

    @post("/notifications/{notification_id:int}/read", name="notification_read", guards=[login_required])
    async def mark_read(self, request: Request, notification_id: FromPath[int]) -> object:
        user = current_user(request)
        row = await scoped(Notification).objects().where(
            (Notification.id == notification_id) & (Notification.user == user.id)
        ).first()
        if row is None:
            raise UserError(404, "Not found.")
        row.read_at = now()
        await row.save([Notification.read_at])
        return page(request, "notifications.html", fragment="_notification.html", n=row.to_dict())
