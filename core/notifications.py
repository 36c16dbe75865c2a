"""Notifications (通知): in-app notices, and the same by e-mail, written through the outbox.

`notify` queues a notice in the transaction of the change that causes it; the actor
`deliver_notification` stores it for the user and mails it when the user has an address.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from core.config import get_settings
from core.formats import reader_params
from core.i18n import current_locale, format_params, gettext
from core.jobs import actor, current_message_id
from core.mail import send_mail
from core.outbox import enqueue_many, enqueue_writes
from core.scope import current_tenant, scoped
from core.tables import Notification, User


async def notify(user_id: int, kind: str, title: str, link: str = "", **params: Any) -> str:
    """Queue an in-app notification (title is a msgid; params fill it when shown)."""
    return (await notify_many([{"user_id": user_id, "kind": kind, "title": title, "link": link,
                                "params": params}]))[0]


async def notify_many(notices: Iterable[dict]) -> list[str]:
    """Queue many notifications in one write; each a dict of `notify`'s arguments (user_id, kind,
    title, link, params)."""
    return await enqueue_many("deliver_notification", _payloads(notices))


def notify_writes(notices: Iterable[dict]) -> list:
    """`notify_many`'s inserts, for the caller to run in its transaction (alone or with others)."""
    return enqueue_writes("deliver_notification", _payloads(notices))[1]


def _payloads(notices: Iterable[dict]) -> Iterable[dict]:
    return ({"user_id": n["user_id"], "kind": n["kind"], "title": n["title"], "link": n.get("link", ""),
             "params": n.get("params") or {}} for n in notices)


@actor("deliver_notification")
async def deliver_notification(user_id: int, kind: str, title: str, link: str = "", params: dict | None = None) -> None:
    """Store one notice for the user (and mail it)."""
    await scoped(Notification).add(
        user=user_id, kind=kind, title=title, body=json.dumps(params or {}, ensure_ascii=False), link=link,
        source=current_message_id.get() or "",
    )
    await _email(user_id, title, link, params or {})


async def _email(user_id: int, title: str, link: str, params: dict) -> None:
    """The same notice by e-mail, in the user's language, when the user has an address."""
    user = await User.select(User.email, User.locale).where(User.id == user_id).first()
    if not user or not user["email"]:
        return
    token = current_locale.set(user["locale"] or "zh_CN")
    try:
        subject = format_params(gettext(title), reader_params(params))  # dates as the reader's locale writes them
        body = f"{subject}\n\n{get_settings().base_url}/t/{current_tenant().slug}/{link}\n\n{gettext('Qinqing platform')}"
    finally:
        current_locale.reset(token)
    await send_mail(user["email"], subject, body)


ACTORS = [deliver_notification]
