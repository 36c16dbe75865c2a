"""A test-only plugin for the fault runs (`bench.faults`): a slow actor to kill a worker in the
middle of, and a job every second to watch the scheduler's slots.  It is never an entry point:
only the processes a fault run starts through this module see it.

    python -m bench.fault_plugin worker --threads 2     # `qinqing worker` with this plugin
    python -m bench.fault_plugin scheduler              # `qinqing scheduler` with this plugin

Each start and end of the slow actor and each run of the job appends a line to the file named by
`QINQING_FAULT_TRACE`, with the process id, so the run can tell where work began and ended.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.metadata
import os
import sys

from core.contrib import PluginInfo, ScheduledJob
from core.hookspecs import hookimpl
from core.tables import Notification, SchedulerRun
from tenants.scope import scoped
from workers.actors import actor, current_message_id

TICK_JOB = "fault_tick"


def trace(line: str) -> None:
    path = os.environ.get("QINQING_FAULT_TRACE")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{line} {os.getpid()}\n")


@actor("fault_slow", max_retries=3)
async def fault_slow(user_id: int, seconds: float = 5.0) -> None:
    """Write a notification, then take `seconds` before the transaction commits."""
    message_id = current_message_id.get()
    trace(f"start {message_id}")
    await scoped(Notification).add(user=user_id, kind="fault", title="Slow job done", body="{}", link="",
                                   source=message_id)
    await asyncio.sleep(seconds)
    trace(f"end {message_id}")


async def fault_tick() -> None:
    """Note which slot this run belongs to (the newest unfinished run of this job is this one)."""
    run = await SchedulerRun.select(SchedulerRun.slot).where(
        (SchedulerRun.job == TICK_JOB) & SchedulerRun.finished_at.is_null()).order_by(
        SchedulerRun.id, ascending=False).first()
    trace(f"tick {run['slot'] if run else '?'}")


@hookimpl
def qinqing_plugin_info():
    return PluginInfo("faultbench", "Fault bench", "A slow actor and a frequent job for bench.faults.")


@hookimpl
def qinqing_actors():
    return [fault_slow]


@hookimpl
def qinqing_scheduled_jobs():
    return [ScheduledJob(TICK_JOB, 1, fault_tick)]


def install() -> None:
    """Make this process's plugin manager the usual one (entry points and bundled) plus this."""
    from core.plugins import BUNDLED, ENTRY_POINT_GROUP, PluginManager, set_plugin_manager

    modules = [ep.load() for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)]
    loaded = {m.__name__ for m in modules}
    modules += [importlib.import_module(m) for m in BUNDLED if m not in loaded]
    set_plugin_manager(PluginManager(modules=[*modules, sys.modules[__name__]]))


if __name__ == "__main__":
    sys.modules.setdefault("bench.fault_plugin", sys.modules[__name__])
    install()
    from cli.main import main

    main()
