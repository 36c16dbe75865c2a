"""The background machinery in the system console (后台任务与定时任务): outbox backlog, queue
lengths, the database replicas with their lag, messages that failed for good (with retry) and the
last scheduler runs."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from core.config import get_settings
from core.db import current_engine
from core.errors import UserError
from core.read_routing import replica_overview
from tenants.registry import all_tenants
from web.pages.console import console_page
from web.system_auth import SYSTEM_ROOT, system_admin_required
from workers.monitor import broker_state, failed_messages, outbox_state, retry_failed, scheduler_runs


def duration(seconds: int | None) -> str:
    """`1:02:03` — hours, minutes and seconds, the same in every language."""
    if seconds is None:
        return "—"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


class WorkerConsole(Controller):
    path = "/workers"
    guards = [system_admin_required]

    @get("/", name="system_workers")
    async def index(self, request: Request) -> Template:
        outbox = await outbox_state()
        slugs = {t.id: t.slug for t in await all_tenants()}
        return console_page(request, "system/workers.html", outbox=outbox, oldest=duration(outbox.oldest_seconds),
                            broker=await broker_state(), failed=await failed_messages(), runs=await scheduler_runs(),
                            tenant_slugs=slugs, replicas=await replica_overview(current_engine()),
                            window=get_settings().read_your_writes_seconds)

    @post("/failed/{failed_id:int}/retry", name="system_retry_failed")
    async def retry(self, failed_id: FromPath[int]) -> Redirect:
        if not await retry_failed(failed_id):
            raise UserError(404, "Not found.")
        return Redirect(path=f"{SYSTEM_ROOT}workers/", status_code=303)
