"""Running actors: each message applied at most once, inside its tenant's scope.

Actors are declared in the domain (`core.jobs.actor`); `workers.broker.setup_broker` declares
them on the Dramatiq broker.  Every message carries `message_id` and `tenant_id`; `run_actor`
applies a message at most once (a `ProcessedMessage` row written in the same transaction as the
effect).
"""

from __future__ import annotations

import logging

from core import jobs
from core.db import write_transaction
from core.jobs import ActorSpec, actor, current_message_id  # noqa: F401  (re-exported for older plugins)
from core.observability import REQUEST_ID_KEY, log_tenant, request_id
from core.tables import ProcessedMessage
from tenants.registry import load_tenant_by_id
from tenants.scope import tenant_scope

log = logging.getLogger("qinqing.workers")


def all_actors() -> dict[str, ActorSpec]:
    """The actors the workers apply: the domain's and the plugins' (`core.jobs`), and tenant
    onboarding's (`tenants.onboarding_jobs`)."""
    from tenants.onboarding_jobs import ACTORS

    return {**{spec.name: spec for spec in ACTORS}, **jobs.all_actors()}


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
