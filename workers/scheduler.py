"""The scheduler (定时任务): one leader at a time, each job run once per time slot.

Leadership is a PostgreSQL advisory lock held on a dedicated connection, or a file lock next to
the SQLite database.  Even without it, a run is recorded under the unique key (job, slot) before
it starts, so a slot never runs twice.
"""

from __future__ import annotations

import asyncio
import logging
import time

from filelock import FileLock, Timeout
from piccolo.engine.postgres import PostgresEngine

from core.clock import now
from core.config import get_settings
from core.contrib import ScheduledJob
from core.db import current_engine, database_unavailable, session_config, write_transaction
from core.plugins import get_plugin_manager
from core.tables import SchedulerRun
from tenants.registry import all_tenants
from tenants.scope import tenant_named, tenant_scope

log = logging.getLogger("qinqing.scheduler")
ADVISORY_KEY = 7_118_718_700


def slot_of(job: ScheduledJob, at: float | None = None) -> str:
    at = time.time() if at is None else at
    return str(int(at // job.interval_seconds))


class Leadership:
    """Hold the single-scheduler lock; `acquire()` is non-blocking."""

    def __init__(self):
        self._conn = None
        self._file: FileLock | None = None

    async def acquire(self) -> bool:
        engine = current_engine()
        if isinstance(engine, PostgresEngine):
            import asyncpg

            if self._conn is not None and self._conn.is_closed():  # the server restarted: the lock is gone
                self._conn = None
            try:
                if self._conn is None:
                    config = session_config(engine)  # past a transaction pooler: the lock is a session's
                    self._conn = await asyncpg.connect(**config, timeout=10)
                return bool(await self._conn.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY_KEY))
            except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                await self.release()  # not the leader while the database cannot be reached; retry next turn
                raise
        if self._file is None:
            settings = get_settings()
            self._file = FileLock(str(settings.database.path) + ".scheduler.lock")
        try:
            self._file.acquire(timeout=0)
            return True
        except Timeout:
            return False

    async def release(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                await conn.close(timeout=5)
            except Exception:  # noqa: BLE001 - a broken connection is closed for good anyway
                conn.terminate()
        if self._file is not None and self._file.is_locked:
            self._file.release()


async def run_for_tenants(job: ScheduledJob, plugin: str | None) -> None:
    """A per-tenant job: `job.run()` inside the scope of every active tenant that enabled `plugin`
    (any active tenant when no plugin is named); one tenant's failure is logged and does not stop
    the others, and the run fails at the end naming them."""
    manager = get_plugin_manager()
    failed = []
    for tenant in await all_tenants():
        if not tenant.active or (plugin is not None and not manager.is_enabled(tenant, plugin)):
            continue
        try:
            if job.in_steps:
                with tenant_named(tenant):
                    await job.run()
            else:
                async with tenant_scope(tenant):
                    await job.run()
        except Exception:  # noqa: BLE001 - one tenant's failure must not stop the others
            log.exception("scheduled job %s failed for tenant %s", job.name, tenant.slug)
            failed.append(tenant.slug)
    if failed:
        raise RuntimeError(f"{job.name} failed for {', '.join(failed)}")


async def run_job(job: ScheduledJob, plugin: str | None = None) -> None:
    """Run `job` now, as the scheduler does: once, or once per tenant for a per-tenant job."""
    await (run_for_tenants(job, plugin) if job.per_tenant else job.run())


async def run_job_once(job: ScheduledJob, slot: str, plugin: str | None = None) -> bool:
    """Run `job` for `slot` unless that slot already ran; returns True if it ran here.  `plugin`
    names the plugin that declared a per-tenant job."""
    async with write_transaction():
        if await SchedulerRun.exists().where((SchedulerRun.job == job.name) & (SchedulerRun.slot == slot)):
            return False
        await SchedulerRun.insert(SchedulerRun(job=job.name, slot=slot))
    error = ""
    try:
        await run_job(job, plugin)
    except Exception as exc:  # noqa: BLE001 - recorded; the next slot tries again
        log.exception("scheduled job %s failed", job.name)
        error = f"{exc.__class__.__name__}: {exc}"
    async with write_transaction():
        await SchedulerRun.update({SchedulerRun.finished_at: now(), SchedulerRun.error: error[:2000]}).where(
            (SchedulerRun.job == job.name) & (SchedulerRun.slot == slot)
        )
    return True


async def tick(at: float | None = None) -> list[str]:
    """Run every job whose current slot has not run yet; returns the names that ran."""
    ran = []
    for plugin, job in get_plugin_manager().scheduled_jobs_by_plugin():
        try:
            if await run_job_once(job, slot_of(job, at), plugin):
                ran.append(job.name)
        except Exception:  # noqa: BLE001 - a slot taken by another process at the same moment
            log.debug("slot of %s taken elsewhere", job.name, exc_info=True)
    return ran


def _log_failure(what: str, exc: Exception) -> None:
    if database_unavailable(exc):  # an outage, not a bug: one line per turn, no stack trace
        log.warning("%s: database unavailable (%s: %s)", what, exc.__class__.__name__, exc)
    else:
        log.exception(what, exc_info=exc)


async def run_forever(stop: asyncio.Event, interval: float = 1.0, relay: bool = True) -> None:
    """Be the scheduler while holding leadership; relay the outbox on every turn as well."""
    from workers.relay import relay_once

    leadership = Leadership()
    try:
        while not stop.is_set():
            # Leading and relaying fail separately: one failing (say, while the database restarts)
            # never stops the other, and the next turn retries both.
            try:
                if await leadership.acquire():
                    await tick()
            except Exception as exc:  # noqa: BLE001 - keep the loop alive; the next turn retries
                _log_failure("scheduler turn failed", exc)
            if relay:
                try:
                    await relay_once()
                except Exception as exc:  # noqa: BLE001
                    _log_failure("outbox relay turn failed", exc)
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except asyncio.TimeoutError:
                pass
    finally:
        await leadership.release()
