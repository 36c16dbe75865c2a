"""The state of the background machinery, for the system console (后台任务状态): the outbox
backlog, the broker's queue lengths, messages that failed for good (with retry) and the last
scheduler runs.  These tables hold IDs only and are read across tenants, like the relay does."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from dramatiq.brokers.stub import StubBroker

from core.clock import as_utc, now
from core.db import write_transaction
from core.tables import FailedMessage, OutboxMessage, SchedulerRun
from workers import broker as broker_mod

QUEUE_TIMEOUT = 3.0


@dataclass(frozen=True)
class OutboxState:
    pending: int  # committed, not yet handed to the broker (or applied, embedded)
    retrying: int  # of those, how many failed a hand-over and wait for their back-off
    oldest_seconds: int | None  # how long the oldest pending message has waited


@dataclass(frozen=True)
class QueueState:
    name: str
    ready: int
    delayed: int
    dead: int


@dataclass(frozen=True)
class BrokerState:
    kind: str  # "embedded" | "redis" | "rabbitmq"
    queues: list[QueueState]
    error: str = ""  # set when the broker could not be asked


async def outbox_state() -> OutboxState:
    pending = OutboxMessage.sent_at.is_null()
    oldest = await OutboxMessage.select(OutboxMessage.created_at).where(pending).order_by(
        OutboxMessage.created_at).first()
    age = max(0, int((now() - as_utc(oldest["created_at"])).total_seconds())) if oldest else None
    return OutboxState(pending=await OutboxMessage.count().where(pending),
                       retrying=await OutboxMessage.count().where(pending & (OutboxMessage.attempts > 0)),
                       oldest_seconds=age)


def _queue_lengths(broker) -> list[QueueState]:
    """Blocking: ask Redis or RabbitMQ how many messages wait in each queue (call in a thread)."""
    states = []
    for name in sorted(set(broker.get_declared_queues()) | {broker_mod.QUEUE}):
        if hasattr(broker, "client"):  # Redis: lists of ids, dead letters in a sorted set
            ns = broker.namespace
            states.append(QueueState(name, int(broker.client.llen(f"{ns}:{name}")),
                                     int(broker.client.llen(f"{ns}:{name}.DQ")),
                                     int(broker.client.zcard(f"{ns}:{name}.XQ"))))
        else:
            ready, delayed, dead = broker.get_queue_message_counts(name)
            states.append(QueueState(name, ready, delayed, dead))
    return states


async def broker_state() -> BrokerState:
    """The queues of the configured broker; unreachable, it says why instead of failing."""
    broker = broker_mod.get_broker()
    if isinstance(broker, StubBroker):
        return BrokerState("embedded", [])
    kind = "redis" if hasattr(broker, "client") else "rabbitmq"
    try:
        queues = await asyncio.wait_for(asyncio.to_thread(_queue_lengths, broker), timeout=QUEUE_TIMEOUT)
    except asyncio.TimeoutError:
        return BrokerState(kind, [], "timeout")
    except Exception as exc:  # noqa: BLE001 - any failure to reach the broker is shown, not raised
        return BrokerState(kind, [], f"{exc.__class__.__name__}: {exc}"[:300])
    return BrokerState(kind, queues)


async def failed_messages(limit: int = 50) -> list[dict]:
    return await FailedMessage.select().order_by(FailedMessage.failed_at, ascending=False).limit(limit)


async def scheduler_runs(limit: int = 20) -> list[dict]:
    return await SchedulerRun.select().order_by(SchedulerRun.started_at, ascending=False).limit(limit)


async def retry_failed(failed_id: int) -> bool:
    """Send a message that failed for good once more: its outbox row is due again (the same
    message id, so it still takes effect at most once) and the failure record goes.  False if
    there is no such failure (already retried)."""
    async with write_transaction():
        row = await FailedMessage.select().where(FailedMessage.id == failed_id).first()
        if row is None:
            return False
        again = {OutboxMessage.sent_at: None, OutboxMessage.available_at: now(), OutboxMessage.created_at: now(),
                 OutboxMessage.attempts: 0, OutboxMessage.last_error: ""}
        updated = await OutboxMessage.update(again).where(
            OutboxMessage.message_id == row["message_id"]).returning(OutboxMessage.id)
        if not updated:
            await OutboxMessage.insert(OutboxMessage(message_id=row["message_id"], tenant_id=row["tenant_id"],
                                                     actor=row["actor"], payload=row["payload"]))
        await FailedMessage.delete().where(FailedMessage.id == failed_id)
    return True
