"""The outbox (发件箱): messages written in the same transaction as the change that causes them."""

from __future__ import annotations

import json
import uuid

from core.db import in_transaction
from core.observability import REQUEST_ID_KEY, request_id
from core.tables import OutboxMessage
from tenants.scope import current_tenant_or_none


async def enqueue(actor_name: str, tenant_id: int | None = None, **kwargs) -> str:
    """Write a message for `actor_name`; it is sent only if the surrounding transaction commits.

    `tenant_id` defaults to the tenant in scope.  Arguments must be JSON: IDs, never objects.
    The current request id travels with the message, so the job logs under the same id.
    """
    if tenant_id is None:
        tenant = current_tenant_or_none()
        tenant_id = tenant.id if tenant else None
    if not in_transaction():
        raise RuntimeError("enqueue() must run inside the transaction of the change that causes it")
    message_id = str(uuid.uuid4())
    if request_id.get():
        kwargs[REQUEST_ID_KEY] = request_id.get()
    await OutboxMessage.insert(
        OutboxMessage(message_id=message_id, tenant_id=tenant_id, actor=actor_name, payload=json.dumps(kwargs))
    )
    return message_id
