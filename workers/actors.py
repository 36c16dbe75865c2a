"""Declaring actors: idempotent, tenant-scoped units of background work.

`@actor` records an async function; `workers.broker.setup_broker` declares it on the Dramatiq
broker.  Every message carries `message_id` and `tenant_id`; `run_actor` applies a message at most
once (a `ProcessedMessage` row written in the same transaction as the effect).
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Awaitable, Callable

from core.db import write_transaction
from core.observability import REQUEST_ID_KEY, log_tenant, request_id
from core.tables import ProcessedMessage
from tenants.registry import load_tenant_by_id
from tenants.scope import tenant_scope

log = logging.getLogger("qinqing.workers")


@dataclass(frozen=True)
class ActorSpec:
    name: str
    fn: Callable[..., Awaitable[None]]
    max_retries: int = 5


_registry: dict[str, ActorSpec] = {}
current_message_id: ContextVar[str | None] = ContextVar("current_message_id", default=None)


def actor(name: str | None = None, max_retries: int = 5):
    """Register an async function as an actor; it receives the message's keyword arguments."""

    def wrap(fn):
        spec = ActorSpec(name=name or fn.__name__, fn=fn, max_retries=max_retries)
        _registry[spec.name] = spec
        return spec

    return wrap


def all_actors() -> dict[str, ActorSpec]:
    from core.plugins import get_plugin_manager

    specs = {spec.name: spec for spec in get_plugin_manager().actors()}
    return {**_registry, **specs}


async def run_actor(actor_name: str, message_id: str, tenant_id: int | None, kwargs: dict) -> bool:
    """Apply one message; returns False if it had already been applied."""
    spec = all_actors().get(actor_name)
    if spec is None:
        raise LookupError(f"unknown actor {actor_name}")
    kwargs = dict(kwargs)
    rid_token = request_id.set(kwargs.pop(REQUEST_ID_KEY, None) or request_id.get())
    try:
        return await _apply(spec, actor_name, message_id, tenant_id, kwargs)
    finally:
        request_id.reset(rid_token)
        log_tenant.set(None)


async def _apply(spec: ActorSpec, actor_name: str, message_id: str, tenant_id: int | None, kwargs: dict) -> bool:
    if tenant_id is not None:
        tenant = await load_tenant_by_id(tenant_id)
        if tenant is None:
            log.warning("message %s for missing tenant %s dropped", message_id, tenant_id)
            return False
        log_tenant.set(tenant.slug)
        scope = tenant_scope(tenant)
    else:
        scope = write_transaction()
    async with scope:
        if await ProcessedMessage.exists().where(ProcessedMessage.message_id == message_id):
            return False
        await ProcessedMessage.insert(ProcessedMessage(message_id=message_id, actor=actor_name))
        token = current_message_id.set(message_id)
        try:
            await spec.fn(**kwargs)
        finally:
            current_message_id.reset(token)
    log.info("applied %s", actor_name, extra={"message_id": message_id, "actor": actor_name})
    return True
