"""The core's background work: notifications (通知) and housekeeping jobs."""

from __future__ import annotations

import json

from core.clock import now
from core.contrib import ScheduledJob
from core.tables import Notification, Session
from tenants.registry import all_tenants
from tenants.scope import scoped, tenant_scope
from workers.actors import actor, current_message_id
from workers.outbox import enqueue


async def notify(user_id: int, kind: str, title: str, link: str = "", **params) -> str:
    """Queue an in-app notification (title is a msgid; params fill it when shown)."""
    return await enqueue("deliver_notification", user_id=user_id, kind=kind, title=title, link=link, params=params)


@actor("deliver_notification")
async def deliver_notification(user_id: int, kind: str, title: str, link: str = "", params: dict | None = None) -> None:
    await scoped(Notification).add(
        user=user_id, kind=kind, title=title, body=json.dumps(params or {}, ensure_ascii=False), link=link,
        source=current_message_id.get() or "",
    )


async def purge_expired_sessions() -> None:
    for tenant in await all_tenants():
        async with tenant_scope(tenant):
            await scoped(Session).delete().where(Session.expires_at < now())


ACTORS = [deliver_notification]
JOBS = [ScheduledJob("purge_expired_sessions", 3600, purge_expired_sessions)]
