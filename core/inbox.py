"""The notification inbox (消息): a user's notifications, page by page with the unread first, the
unread count, and marking them read.  (Writing them is `core.notifications`.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from piccolo.querystring import QueryString

from core.clock import now
from core.scope import scoped
from core.tables import Notification

UNREAD_FIRST = QueryString('"notification"."read_at" IS NOT NULL')  # false (unread) sorts first on both engines


@dataclass
class InboxPage:
    """One page of a user's notifications, and the counts the page shows."""

    rows: list[dict[str, Any]]
    total: int  # of the notifications listed (all, or the unread only)
    unread: int


async def inbox_page(user_id: int, number: int, per_page: int, unread_only: bool = False) -> InboxPage:
    """Page `number` of the user's notifications (only the unread ones, if asked): unread first,
    then newest first."""
    mine = Notification.user == user_id
    where = mine & Notification.read_at.is_null() if unread_only else mine
    rows = await scoped(Notification).select().where(where).order_by(UNREAD_FIRST).order_by(
        Notification.id, ascending=False).limit(per_page).offset((number - 1) * per_page)
    total = await scoped(Notification).count().where(where)
    return InboxPage(rows=rows, total=total, unread=await unread_count(user_id))


async def unread_count(user_id: int) -> int:
    """How many of the user's notifications are unread (the top bar's badge)."""
    return await scoped(Notification).count().where((Notification.user == user_id) & Notification.read_at.is_null())


async def mark_all_read(user_id: int) -> None:
    """Mark every unread notification of the user read, now."""
    await scoped(Notification).update({Notification.read_at: now()}).where(
        (Notification.user == user_id) & Notification.read_at.is_null())


async def mark_read(user_id: int, notification_id: int) -> dict[str, Any] | None:
    """Mark one of the user's notifications read, now; the notification, or None when the user has
    no such notification."""
    row = await scoped(Notification).objects().where(
        (Notification.id == notification_id) & (Notification.user == user_id)).first()
    if row is None:
        return None
    row.read_at = now()
    await row.save([Notification.read_at])
    return row.to_dict()
