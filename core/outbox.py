"""The outbox (发件箱): messages written in the same transaction as the change that causes them."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Iterable

from core.clock import now
from core.db import execute_many, in_transaction, write_transaction
from core.observability import REQUEST_ID_KEY, request_id
from core.prepared import Inserted
from core.scope import current_tenant_or_none
from core.tables import OutboxMessage


async def enqueue(actor_name: str, tenant_id: int | None = None, **kwargs) -> str:
    """Write a message for `actor_name`; it is sent only if the surrounding transaction commits.

    `tenant_id` defaults to the tenant in scope.  Arguments must be JSON: IDs, never objects.
    The current request id travels with the message, so the job logs under the same id.
    """
    return (await enqueue_many(actor_name, [kwargs], tenant_id))[0]


BATCH = 1000  # rows per INSERT (bound parameters stay well under each engine's limit)


async def enqueue_many(actor_name: str, payloads: Iterable[dict], tenant_id: int | None = None) -> list[str]:
    """Write one message for `actor_name` per payload (each as `enqueue` would), a batch per INSERT;
    returns their ids in order.  Nothing to write writes nothing."""
    ids, writes = enqueue_writes(actor_name, payloads, tenant_id)
    for write in writes:
        await write
    return ids


def enqueue_writes(actor_name: str, payloads: Iterable[dict], tenant_id: int | None = None) -> tuple[list[str], list]:
    """`enqueue_many` up to the writing: the messages' ids, and the inserts that store them, for
    the caller to run in the same transaction (alone or with others of its own)."""
    payloads = [dict(p) for p in payloads]
    if not payloads:
        return [], []
    if tenant_id is None:
        tenant = current_tenant_or_none()
        tenant_id = tenant.id if tenant else None
    if not in_transaction():
        raise RuntimeError("enqueue() must run inside the transaction of the change that causes it")
    rid = request_id.get()
    ids, rows = [], []
    for kwargs in payloads:
        message_id = str(uuid.uuid4())
        if rid:
            kwargs[REQUEST_ID_KEY] = rid
        ids.append(message_id)
        rows.append(OutboxMessage(message_id=message_id, tenant_id=tenant_id, actor=actor_name,
                                  payload=json.dumps(kwargs)))
    return ids, [Inserted(OutboxMessage, *rows[start:start + BATCH]) for start in range(0, len(rows), BATCH)]


_INSERT_MESSAGE = ("INSERT INTO outbox_message (message_id, tenant_id, actor, payload, created_at, available_at, "
                   "sent_at, attempts, last_error) VALUES ($1, $2, $3, $4, $5, $6, NULL, 0, '')")


async def enqueue_bulk(actor_name: str, payloads: Iterable[dict]) -> int:
    """`enqueue_many` for thousands of messages of the tenant in scope (the deadline sweep's
    notices): the same rows, written as one batch of plain tuples; returns how many."""
    if not in_transaction():
        raise RuntimeError("enqueue() must run inside the transaction of the change that causes it")
    tenant = current_tenant_or_none()
    tenant_id, rid, at = (tenant.id if tenant else None), request_id.get(), now()
    rows = []
    for payload in payloads:
        kwargs = dict(payload, **{REQUEST_ID_KEY: rid}) if rid else payload
        rows.append((str(uuid.uuid4()), tenant_id, actor_name, json.dumps(kwargs), at, at))
    await execute_many(_INSERT_MESSAGE, rows)
    return len(rows)


KEEP_SENT = timedelta(days=7)  # a sent message stays this long (the console's view), then goes


async def purge_sent(batch: int = 5000) -> int:
    """Delete messages sent more than a week ago (发件箱清理): the broker has them, each actor's
    applied ids keep a redelivery from acting twice, and a failed one keeps its own copy to retry.
    Returns how many went; a batch per transaction so a long backlog never holds one lock."""
    gone, cutoff = 0, now() - KEEP_SENT
    while True:
        async with write_transaction():
            ids = [r["id"] for r in await OutboxMessage.select(OutboxMessage.id).where(
                OutboxMessage.sent_at < cutoff).limit(batch)]
            if ids:
                await OutboxMessage.delete().where(OutboxMessage.id.is_in(ids))
        gone += len(ids)
        if len(ids) < batch:
            return gone
