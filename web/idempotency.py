"""Safe retries (幂等): a write sent with an `Idempotency-Key` header is taken once.

A client that saw no answer (a dropped connection, a timeout) sends the same request again with
the same key: within 24 hours it gets the first answer back, marked `Idempotent-Replayed: true`,
and nothing new is stored.  The key is claimed inside the request's own transaction, so two copies
arriving together are serialised by the database (PostgreSQL waits on the unique key; SQLite's
write transactions run one at a time) and an answer is kept only if the request's changes are.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta

from litestar.types import Receive, Scope

from core.clock import now
from core.errors import UserError
from core.tables import IdempotencyKey
from tenants.scope import scoped

HEADER = b"idempotency-key"
KEEP = timedelta(hours=24)
MAX_KEY = 200


def requested_key(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == HEADER:
            return value.decode("latin-1").strip() or None
    return None


@dataclass
class Claim:
    """A claimed key: `replay` holds the first answer's ASGI messages when this is a repeat;
    otherwise run the request with `receive` (its body read once already) and `remember`."""

    row_id: int | None = None
    replay: list = field(default_factory=list)
    receive: Receive | None = None

    async def remember(self, messages: list) -> None:
        start = next(m for m in messages if m["type"] == "http.response.start")
        content_type = next((v.decode("latin-1") for k, v in start.get("headers", []) if k == b"content-type"), "")
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        await scoped(IdempotencyKey).update({
            IdempotencyKey.status: start["status"], IdempotencyKey.content_type: content_type[:100],
            IdempotencyKey.body: body.decode("utf-8", "replace")}).where(IdempotencyKey.id == self.row_id)


async def claim(scope: Scope, receive: Receive, key: str, user_id: int) -> Claim:
    """Claim `key` for this request, or find the answer an earlier request with it got."""
    if len(key) > MAX_KEY:
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field="Idempotency-Key")
    body, replayable = await _read_body(receive)
    fingerprint = hashlib.sha256(b"\n".join([scope["method"].encode(), scope["path"].encode(), body])).hexdigest()
    mine = (IdempotencyKey.user == user_id) & (IdempotencyKey.key == key)
    await scoped(IdempotencyKey).delete().where(mine & (IdempotencyKey.created_at < now() - KEEP))
    inserted = await IdempotencyKey.insert(scoped(IdempotencyKey).new(
        user=user_id, key=key, fingerprint=fingerprint)).on_conflict(action="DO NOTHING").returning(IdempotencyKey.id)
    if inserted:
        return Claim(row_id=inserted[0]["id"], receive=replayable)
    first = await scoped(IdempotencyKey).select().where(mine).first()
    if first["fingerprint"] != fingerprint:
        raise UserError(422, "This Idempotency-Key was already used for a different request.",
                        code="idempotency_key_reused")
    headers = [(b"content-type", first["content_type"].encode("latin-1")), (b"idempotent-replayed", b"true")]
    return Claim(replay=[{"type": "http.response.start", "status": first["status"], "headers": headers},
                         {"type": "http.response.body", "body": first["body"].encode(), "more_body": False}])


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a `receive` that hands it to the application as sent."""
    chunks, more = [], True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return b"", receive  # the client left: the application sees the disconnect itself
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body, sent = b"".join(chunks), False

    async def replay():
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay
