"""The core's background work: notifications (通知) and housekeeping jobs."""

from __future__ import annotations

import json
from typing import Iterable

from core.clock import now
from core.contrib import ScheduledJob
from core.tables import Notification, Session, SystemSession
from tenants.registry import all_tenants
from tenants.scope import scoped, tenant_scope
from workers.actors import actor, current_message_id
from workers.outbox import enqueue_many


async def notify(user_id: int, kind: str, title: str, link: str = "", **params) -> str:
    """Queue an in-app notification (title is a msgid; params fill it when shown)."""
    return (await notify_many([{"user_id": user_id, "kind": kind, "title": title, "link": link,
                                "params": params}]))[0]


async def notify_many(notices: Iterable[dict]) -> list[str]:
    """Queue many notifications in one write; each a dict of `notify`'s arguments (user_id, kind,
    title, link, params)."""
    return await enqueue_many("deliver_notification", (
        {"user_id": n["user_id"], "kind": n["kind"], "title": n["title"], "link": n.get("link", ""),
         "params": n.get("params") or {}} for n in notices))


@actor("deliver_notification")
async def deliver_notification(user_id: int, kind: str, title: str, link: str = "", params: dict | None = None) -> None:
    await scoped(Notification).add(
        user=user_id, kind=kind, title=title, body=json.dumps(params or {}, ensure_ascii=False), link=link,
        source=current_message_id.get() or "",
    )
    await _email(user_id, title, link, params or {})


async def _email(user_id: int, title: str, link: str, params: dict) -> None:
    """The same notice by e-mail, in the user's language, when the user has an address."""
    from core.config import get_settings
    from core.i18n import current_locale, gettext
    from core.tables import User
    from tenants.scope import current_tenant
    from web.filters import format_params
    from workers.mail import send_mail

    user = await User.select(User.email, User.locale).where(User.id == user_id).first()
    if not user or not user["email"]:
        return
    token = current_locale.set(user["locale"] or "zh_CN")
    try:
        subject = format_params(gettext(title), params)
        body = f"{subject}\n\n{get_settings().base_url}/t/{current_tenant().slug}/{link}\n\n{gettext('Qinqing platform')}"
    finally:
        current_locale.reset(token)
    await send_mail(user["email"], subject, body)


async def purge_expired_sessions() -> None:
    for tenant in await all_tenants():
        async with tenant_scope(tenant):
            await scoped(Session).delete().where(Session.expires_at < now())
    await SystemSession.delete().where(SystemSession.expires_at < now())  # the system console's


ACTORS = [deliver_notification]
async def case_deadlines() -> None:
    from core.cases.deadlines import sweep_all

    await sweep_all()


async def index_history() -> None:
    from core.oversight.index import record_all

    await record_all()


async def audit_anchors() -> None:
    """Sign every tenant's chain head (存证), once a day."""
    from core.cases.anchors import anchor_all

    await anchor_all()


JOBS = [ScheduledJob("purge_expired_sessions", 3600, purge_expired_sessions),
        ScheduledJob("case_deadlines", 3600, case_deadlines),
        ScheduledJob("index_history", 86400, index_history),
        ScheduledJob("audit_anchors", 86400, audit_anchors)]
