"""The core's scheduled jobs (定时任务): housekeeping (sessions, sent messages), the deadline sweep,
the index history and the daily signature of every chain head.  Declared here, run by the scheduler (`workers.scheduler`)."""

from __future__ import annotations

from core.clock import now
from core.contrib import ScheduledJob
from core.scope import scoped, tenant_scope
from core.tables import Session, SystemSession
from core.tenant_registry import all_tenants


async def purge_expired_sessions() -> None:
    """Delete every tenant's expired sessions, and the system console's."""
    for tenant in await all_tenants():
        async with tenant_scope(tenant):
            await scoped(Session).delete().where(Session.expires_at < now())
    await SystemSession.delete().where(SystemSession.expires_at < now())  # the system console's


async def purge_sent_messages() -> None:
    """Delete the outbox's messages sent over a week ago."""
    from core.outbox import purge_sent

    await purge_sent()


async def case_deadlines() -> None:
    """Remind, flag overdue and escalate the tenant's cases (per tenant, a transaction per step)."""
    from core.cases.deadlines import sweep_tenant

    await sweep_tenant()


async def index_history() -> None:
    """Store the tenant's monthly index history (per tenant)."""
    from core.oversight.index import monthly_history

    await monthly_history()


async def audit_anchors() -> None:
    """Sign the tenant's chain head (存证), once a day (per tenant)."""
    from core.cases.anchors import anchor_tenant

    await anchor_tenant()


JOBS = [ScheduledJob("purge_expired_sessions", 3600, purge_expired_sessions),
        ScheduledJob("purge_sent_messages", 86400, purge_sent_messages),
        ScheduledJob("case_deadlines", 3600, case_deadlines, per_tenant=True, in_steps=True),
        ScheduledJob("index_history", 86400, index_history, per_tenant=True),
        ScheduledJob("audit_anchors", 86400, audit_anchors, per_tenant=True)]
