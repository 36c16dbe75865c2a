"""The outbox relay (转发): hands committed outbox messages to the broker, or — embedded, with
no broker — applies them in this process.  Claiming a row is one conditional UPDATE that leases it
for `LEASE` seconds, so several relays never send the same row at once; the row is marked sent
only after the hand-over.  A failed hand-over leaves the row to be retried with a back-off, and a
relay that dies holding a lease (killed between claiming and sending) leaves its rows to be sent
again when the lease runs out — a message may then reach the broker twice, never zero times, and
the actors apply it once."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta

from core.clock import now
from core.db import write_transaction
from core.tables import OutboxMessage
from workers import broker as broker_mod
from workers.actors import run_actor

log = logging.getLogger("qinqing.relay")
MAX_BACKOFF = 300
LEASE = 60  # seconds a claimed row is left to the relay that claimed it


async def _claim(limit: int) -> list[dict]:
    async with write_transaction():
        at = now()
        due = OutboxMessage.sent_at.is_null() & (OutboxMessage.available_at <= at)
        rows = await OutboxMessage.select().where(due).order_by(OutboxMessage.id).limit(limit)
        claimed = []
        for row in rows:
            done = await OutboxMessage.update({OutboxMessage.available_at: at + timedelta(seconds=LEASE)}).where(
                (OutboxMessage.id == row["id"]) & due
            ).returning(OutboxMessage.id)
            if done:
                claimed.append(row)
        return claimed


async def _mark_sent(ids: list[int]) -> None:
    if ids:
        async with write_transaction():
            await OutboxMessage.update({OutboxMessage.sent_at: now()}).where(OutboxMessage.id.is_in(ids))


async def _release(row: dict, error: Exception) -> None:
    attempts = (row["attempts"] or 0) + 1
    delay = min(MAX_BACKOFF, 2 ** min(attempts, 9))
    async with write_transaction():
        await OutboxMessage.update({
            OutboxMessage.sent_at: None,
            OutboxMessage.attempts: attempts,
            OutboxMessage.last_error: f"{error.__class__.__name__}: {error}"[:2000],
            OutboxMessage.available_at: now() + timedelta(seconds=delay),
        }).where(OutboxMessage.id == row["id"])


async def relay_once(limit: int = 200, broker=None) -> int:
    """Send (or, embedded, apply) up to `limit` due messages; returns how many were handed over."""
    broker = broker or broker_mod.get_broker()
    embedded = isinstance(broker, broker_mod.StubBroker)
    handed: list[int] = []
    try:
        for row in await _claim(limit):
            kwargs = json.loads(row["payload"] or "{}")
            try:
                if embedded:
                    await run_actor(row["actor"], row["message_id"], row["tenant_id"], kwargs)
                else:
                    await asyncio.to_thread(broker_mod.send, broker, row["actor"], row["message_id"],
                                            row["tenant_id"], kwargs)
                handed.append(row["id"])
            except Exception as exc:  # noqa: BLE001 - the message stays in the outbox and is retried
                log.warning("outbox message %s not handed over: %s", row["message_id"], exc)
                await _release(row, exc)
    finally:
        await _mark_sent(handed)
    return len(handed)


async def backlog() -> int:
    return await OutboxMessage.count().where(OutboxMessage.sent_at.is_null())


async def drain(max_rounds: int = 100, broker=None) -> int:
    """Relay until nothing is due (used by tests and `qinqing demo`)."""
    total = 0
    for _ in range(max_rounds):
        n = await relay_once(broker=broker)
        total += n
        if n == 0:
            break
    return total
