"""The scheduler: one leader at a time, and each job's time slot runs once."""

from core.contrib import ScheduledJob
from core.plugins import PluginManager, get_plugin_manager, set_plugin_manager
from core.tables import SchedulerRun
from workers.scheduler import Leadership, run_job_once, slot_of, tick

runs = []


async def _count_run():
    runs.append(1)


JOB = ScheduledJob("test_counter", 60, _count_run)


async def test_a_slot_runs_once_however_often_it_is_asked():
    runs.clear()
    slot = slot_of(JOB, at=1_000_000.0)
    assert await run_job_once(JOB, slot) is True
    assert await run_job_once(JOB, slot) is False
    assert await run_job_once(JOB, slot_of(JOB, at=1_000_060.0)) is True
    assert len(runs) == 2
    rows = await SchedulerRun.select().where(SchedulerRun.job == "test_counter")
    assert len(rows) == 2 and all(r["finished_at"] is not None for r in rows)


async def test_only_one_leader_at_a_time():
    first, second = Leadership(), Leadership()
    assert await first.acquire() is True
    assert await second.acquire() is False
    await first.release()
    assert await second.acquire() is True
    await second.release()


async def test_tick_runs_the_jobs_plugins_contribute():
    from tests import contract_plugin

    manager = PluginManager(modules=[contract_plugin])
    previous = get_plugin_manager()
    set_plugin_manager(manager)
    try:
        contract_plugin.JOB_RUNS.clear()
        ran = await tick(at=2_000_000.0)
        again = await tick(at=2_000_001.0)
    finally:
        set_plugin_manager(previous)
    assert "contract_job" in ran and "contract_job" not in again
    assert contract_plugin.JOB_RUNS == [1]
