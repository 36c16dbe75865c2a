"""The Dramatiq broker chosen by `BROKER_URL`: none (in-process), Redis or RabbitMQ."""

from __future__ import annotations

import asyncio
import json
import logging

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO, Middleware

from core.config import Settings, get_settings

QUEUE = "qinqing"
log = logging.getLogger("qinqing.workers")

_broker: dramatiq.Broker | None = None

# A Redis worker that stops sending heartbeats (killed, or its machine gone) is declared dead after
# this long, and the messages it had taken but not acknowledged go back on the queue.  Dramatiq's
# defaults (60 s, and the check on 0.1% of broker calls) leave such a job waiting for minutes.
# A live worker calls Redis at least once a second, so 15 s is safe; the check runs on 5% of calls.
REDIS_HEARTBEAT_TIMEOUT_MS = 15_000
REDIS_MAINTENANCE_CHANCE = 50_000  # out of 1,000,000
# A live worker whose connection broke gives back, itself, what the break stranded in its own
# ack set (workers.redis_recovery): maintenance would wait for it to die.


class DatabasePool(Middleware):
    """Start the PostgreSQL pool on the worker's event loop (in a `qinqing worker` process, which
    owns the engine), and record messages that failed for good."""

    owns_engine = False

    def after_worker_boot(self, broker, worker):
        if not DatabasePool.owns_engine:
            return
        from dramatiq.asyncio import get_event_loop_thread

        from core.db import start_pool

        get_event_loop_thread().run_coroutine(start_pool())

    def after_process_message(self, broker, message, *, result=None, exception=None):
        if exception is None or not message.failed:
            return
        from dramatiq.asyncio import get_event_loop_thread

        get_event_loop_thread().run_coroutine(record_failure(message.actor_name, message.kwargs, repr(exception)))


async def record_failure(actor_name: str, kwargs: dict, error: str) -> None:
    from core.db import write_transaction
    from core.tables import FailedMessage

    async with write_transaction():
        if not await FailedMessage.exists().where(FailedMessage.message_id == kwargs.get("message_id", "")):
            await FailedMessage.insert(FailedMessage(
                message_id=kwargs.get("message_id", ""), tenant_id=kwargs.get("tenant_id"), actor=actor_name,
                payload=json.dumps(kwargs.get("kwargs", {})), error=error[:2000],
            ))


def make_broker(url: str | None) -> dramatiq.Broker:
    if not url:
        broker = StubBroker()
    elif url.startswith(("redis://", "rediss://")):
        from workers.redis_recovery import RecoveringRedisBroker

        broker = RecoveringRedisBroker(url=url, heartbeat_timeout=REDIS_HEARTBEAT_TIMEOUT_MS,
                                       maintenance_chance=REDIS_MAINTENANCE_CHANCE)
    else:
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url)
    broker.add_middleware(AsyncIO())
    broker.add_middleware(DatabasePool())
    return broker


def declare_actors(broker: dramatiq.Broker) -> None:
    from workers.actors import all_actors, run_actor

    for spec in all_actors().values():
        if spec.name in broker.actors:
            continue

        async def handler(message_id: str, tenant_id: int | None, kwargs: dict, _name=spec.name) -> None:
            await run_actor(_name, message_id, tenant_id, kwargs)

        handler.__name__ = spec.name
        dramatiq.actor(handler, actor_name=spec.name, queue_name=QUEUE, broker=broker, max_retries=spec.max_retries)


def setup_broker(settings: Settings | None = None) -> dramatiq.Broker:
    global _broker
    settings = settings or get_settings()
    if _broker is None:
        _broker = make_broker(settings.broker_url)
        dramatiq.set_broker(_broker)
        declare_actors(_broker)
    return _broker


def get_broker() -> dramatiq.Broker:
    return _broker or setup_broker()


def is_embedded() -> bool:
    return isinstance(get_broker(), StubBroker)


def send(broker: dramatiq.Broker, actor_name: str, message_id: str, tenant_id: int | None, kwargs: dict) -> None:
    """Hand one message to the broker (blocking network I/O: call it in a thread)."""
    message = dramatiq.Message(
        queue_name=QUEUE, actor_name=actor_name, args=(),
        kwargs={"message_id": message_id, "tenant_id": tenant_id, "kwargs": kwargs}, options={},
    )
    broker.enqueue(message)


def queue_length(broker: dramatiq.Broker | None = None) -> int | None:
    broker = broker or get_broker()
    try:
        if isinstance(broker, StubBroker):
            return broker.queues[QUEUE].qsize() if QUEUE in broker.queues else 0
        if hasattr(broker, "client"):  # Redis
            return int(broker.client.llen(f"{broker.namespace}:{QUEUE}"))
        return broker.get_queue_message_counts(QUEUE)[0]
    except Exception:  # noqa: BLE001 - the console shows "unknown"
        return None


def _ping(broker: dramatiq.Broker) -> bool:
    if isinstance(broker, StubBroker):
        return True
    try:
        if hasattr(broker, "client"):
            return bool(broker.client.ping())
        broker.get_queue_message_counts(QUEUE)
        return True
    except Exception:  # noqa: BLE001 - unreachable in any way
        return False


async def broker_reachable() -> bool:
    try:
        return await asyncio.wait_for(asyncio.to_thread(_ping, get_broker()), timeout=5)
    except asyncio.TimeoutError:
        return False
