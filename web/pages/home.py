"""The tenant's home (工作台 dashboard) and the notification inbox (消息)."""

from __future__ import annotations

from litestar.params import FromPath
from litestar import Controller, Request, get, post

from core.plugins import get_plugin_manager
from core.tables import Notification
from tenants.scope import scoped
from web.errors import UserError
from core.clock import now
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
        return page(request, "notifications.html", notifications=rows)

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
