"""Faults survived (故障演练): the real processes, hurt on purpose, on a private PostgreSQL cluster
and a private Redis (the machine's own servers are never stopped).

    python -m bench.faults                    # all four, in this order
    python -m bench.faults worker-kill scheduler-failover broker-restart postgres-restart

- `worker-kill`: a worker is SIGKILLed in the middle of a slow job; after the worker is started
  again the job completes, with exactly one effect.
- `scheduler-failover`: the leading scheduler (which is also an outbox relay) is SIGKILLed while
  companies are filing cases; the other scheduler takes over, no time slot runs twice, nothing
  filed is lost.
- `broker-restart`: Redis is stopped and started again while companies are filing cases;
  `/readyz` answers 503 while it is down, every request still succeeds, and every message is
  applied exactly once afterwards.
- `postgres-restart`: PostgreSQL is stopped and started again; `/readyz` and the API answer 503
  while it is down, and the web process, the worker and the scheduler recover by themselves.

One set-up serves all: a database on a private cluster (initdb into a temporary directory), a
private redis-server, `qinqing migrate`, two tenants, then two web processes, two workers and two
schedulers, the workers and schedulers launched through `bench.fault_plugin` (a slow actor and a
job every second).  Prints what each scenario saw and exits 1 if any failed; `--json FILE`
writes the results.  Everything is stopped and removed at the end, also on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from bench.load_checks import check_cases, check_messages, last_case_id, wait_drained
from bench.load_client import Driver, Tally
from bench.procs import (
    PostgresCluster,
    RedisServer,
    Stack,
    Supervisor,
    app_env,
    apply_tenants,
    create_database,
    exit_on_sigterm,
    http_status,
    provision,
    qinqing,
)

SCENARIOS = ("worker-kill", "scheduler-failover", "broker-restart", "postgres-restart")
SLUGS = ["fault01", "fault02"]


class Failed(AssertionError):
    pass


def expect(condition, message: str) -> None:
    if not condition:
        raise Failed(message)


class FaultRun:
    """The shared set-up: servers, database, tenants, tokens and the application's processes."""

    def __init__(self, say=print):
        self.say = say
        self.work = Path(tempfile.mkdtemp(prefix="qinqing-faults-"))
        self.supervisor = Supervisor(self.work / "logs")
        self.trace = self.work / "trace.log"
        self.cluster: PostgresCluster | None = None
        self.redis: RedisServer | None = None

    # -- set-up and tear-down ----------------------------------------------------------------------
    def setup(self) -> None:
        self.cluster = PostgresCluster()
        self.cluster.init()
        self.cluster.start()
        self.db_url = create_database(self.cluster.admin_url, "qinqing_faults")
        self.redis = RedisServer(self.supervisor)
        self.redis.start()
        self.redis_client = self.redis.client()
        self.env = app_env(self.db_url, self.redis.url, self.work / "var", QINQING_FAULT_TRACE=str(self.trace))
        qinqing(["migrate"], self.env)
        apply_tenants(SLUGS, self.env, self.work)
        self.kits = provision(SLUGS, self.env, companies=1)
        self.stack = Stack(self.supervisor, self.env, module="bench.fault_plugin")
        self.bases = [self.stack.serve(name, wait=False) for name in ("web1", "web2")]
        for name in ("web1", "web2"):
            self.stack.wait_web(name)
        for name in ("worker1", "worker2"):
            self.stack.worker(name, threads=4)
        for name in ("scheduler1", "scheduler2"):
            self.stack.scheduler(name)
        self.say(f"set up in {self.work}: PostgreSQL on port {self.cluster.port}, Redis on port {self.redis.port}, "
                 "2 web, 2 worker and 2 scheduler processes")

    def cleanup(self, keep_logs: bool) -> None:
        self.supervisor.stop_all()
        if self.redis is not None:
            self.redis.cleanup()
        if self.cluster is not None:
            self.cluster.cleanup()
        if keep_logs:
            self.say(f"logs kept in {self.work / 'logs'}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    # -- looking -------------------------------------------------------------------------------------
    def traces(self, kind: str, arg: str | None = None) -> list[tuple[str, int]]:
        """(argument, pid) of the trace lines of `kind` (start, end, tick)."""
        if not self.trace.exists():
            return []
        out = []
        for line in self.trace.read_text().splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] == kind and (arg is None or parts[1] == arg):
                out.append((parts[1], int(parts[2])))
        return out

    def name_of(self, pid: int) -> str:
        return next(name for name, proc in self.supervisor.procs.items() if proc.pid == pid)

    async def sql(self, query: str, *args):
        import asyncpg

        conn = await asyncpg.connect(self.db_url)
        try:
            return await conn.fetch(query, *args)
        finally:
            await conn.close()

    async def wait(self, predicate, timeout: float, what: str, interval: float = 0.3):
        deadline = time.monotonic() + timeout
        while True:
            value = await predicate()
            if value:
                return value
            expect(time.monotonic() < deadline, f"timed out after {timeout:.0f}s waiting for {what}")
            await asyncio.sleep(interval)

    def all_alive(self) -> None:
        dead = [name for name in self.supervisor.procs if not self.supervisor.alive(name)]
        expect(not dead, f"processes died: {', '.join(dead)}: "
                         + "; ".join(self.supervisor.tail(n, 5) for n in dead))

    async def drained_and_whole(self, tally: Tally, since: int) -> dict:
        """Wait for the outbox and queue to empty; then nothing lost, nothing doubled, no error
        (among the cases after id `since`)."""
        await wait_drained(self.db_url, self.redis_client, timeout=240, say=self.say)
        cases, case_problems = await check_cases(self.db_url, tally, since)
        messages, message_problems = await check_messages(self.db_url, self.redis_client)
        expect(not case_problems and not message_problems, "; ".join(case_problems + message_problems))
        expect(tally.unexpected() == 0, f"{tally.unexpected()} requests failed: {tally.samples[:3]}")
        return {"cases": sum(len(c) for c in tally.created.values()), "requests": tally.requests(),
                "outbox": messages["outbox"], "retried_handovers": messages["retried_handovers"]}


# -- the scenarios ---------------------------------------------------------------------------------------

async def worker_kill(run: FaultRun) -> dict:
    """SIGKILL the worker running a slow job; start it again; the job completes once."""
    [row] = await run.sql("""SELECT u.id AS user_id, t.id AS tenant_id FROM app_user u, tenant t
                             WHERE u.username = 'handler@fault01' AND t.slug = 'fault01'""")
    message_id = str(uuid.uuid4())
    await run.sql("""INSERT INTO outbox_message (message_id, tenant_id, actor, payload, created_at, available_at,
                                                 attempts, last_error)
                     VALUES ($1, $2, 'fault_slow', $3, now(), now(), 0, '')""",
                  message_id, row["tenant_id"], json.dumps({"user_id": row["user_id"], "seconds": 6}))

    async def started():
        return run.traces("start", message_id)

    [(_, pid)] = await run.wait(started, 60, "the slow job to start")
    victim = run.name_of(pid)
    await asyncio.sleep(1.5)
    run.supervisor.kill(victim)
    killed = time.monotonic()
    effects = await run.sql("SELECT count(*) AS n FROM notification WHERE source = $1", message_id)
    expect(effects[0]["n"] == 0, "the killed job's effect was committed")
    run.say(f"  killed {victim} (pid {pid}) in the middle of job {message_id}; starting it again")
    run.stack.worker(victim, threads=4)

    async def processed():
        rows = await run.sql("SELECT count(*) AS n FROM processed_message WHERE message_id = $1", message_id)
        return rows[0]["n"]

    await run.wait(processed, 180, "the job to complete after the restart", interval=0.5)
    recovered = time.monotonic() - killed
    await asyncio.sleep(2)  # room for a second, wrong, completion to show up
    effects = (await run.sql("SELECT count(*) AS n FROM notification WHERE source = $1", message_id))[0]["n"]
    done = (await run.sql("SELECT count(*) AS n FROM processed_message WHERE message_id = $1", message_id))[0]["n"]
    failed = (await run.sql("SELECT count(*) AS n FROM failed_message WHERE message_id = $1", message_id))[0]["n"]
    starts, ends = run.traces("start", message_id), run.traces("end", message_id)
    expect(effects == 1 and done == 1 and failed == 0,
           f"the job completed with {effects} effects, {done} processed rows, {failed} failures (want 1, 1, 0)")
    expect(len(starts) >= 2 and len(ends) == 1 and ends[0][1] != pid,
           f"starts {starts}, ends {ends}: want a start in the killed worker and one end elsewhere")
    run.all_alive()
    return {"killed": victim, "recovered_seconds": round(recovered, 1), "starts": len(starts), "effects": effects}


async def scheduler_failover(run: FaultRun) -> dict:
    """SIGKILL the leading scheduler while cases are filed; the other leads, no slot runs twice."""
    async def ticking():
        return len(run.traces("tick")) >= 3 and run.traces("tick")

    leader_pid = (await run.wait(ticking, 60, "the job to tick"))[-1][1]
    leader = run.name_of(leader_pid)
    since = await last_case_id(run.db_url)
    driver, stop = Driver(run.kits, run.bases), asyncio.Event()
    load = asyncio.create_task(driver.run(cases=5000, clients=8, stop=stop))
    await run.wait(lambda: _true(driver.tally.statuses[("submit", 201)] >= 20), 120, "cases to be filed")
    run.supervisor.kill(leader)
    killed = time.monotonic()
    ticks_before = len(run.traces("tick"))
    run.say(f"  killed the leading scheduler {leader} (pid {leader_pid}) while cases were being filed")

    async def taken_over():
        return [t for t in run.traces("tick")[ticks_before:] if t[1] != leader_pid]

    new_leader = run.name_of((await run.wait(taken_over, 60, "another scheduler to take over"))[0][1])
    takeover = time.monotonic() - killed
    await asyncio.sleep(3)  # the new leader relays under load for a while
    stop.set()
    await load
    run.stack.scheduler(leader)  # back, as the one that waits
    whole = await run.drained_and_whole(driver.tally, since)
    await asyncio.sleep(2)
    slots = [slot for slot, _ in run.traces("tick")]
    twice = [s for s, n in Counter(slots).items() if n > 1]
    expect(not twice, f"slots ran twice: {twice[:5]}")
    rows = await run.sql("SELECT slot, count(*) AS n FROM scheduler_run WHERE job = 'fault_tick' GROUP BY slot")
    recorded = {r["slot"]: r["n"] for r in rows}
    expect(all(n == 1 for n in recorded.values()), "a slot recorded twice")
    expect(set(slots) <= set(recorded), f"ran without a record: {sorted(set(slots) - set(recorded))[:5]}")
    pids = {pid for _, pid in run.traces("tick")[ticks_before:]}
    expect(leader_pid not in pids, "the killed scheduler kept ticking")
    run.all_alive()
    return {"killed": leader, "new_leader": new_leader, "takeover_seconds": round(takeover, 1),
            "slots": len(slots), **whole}


async def _true(value):
    return value


async def broker_restart(run: FaultRun) -> dict:
    """Stop Redis and start it again while cases are filed: nothing lost, no request fails."""
    since = await last_case_id(run.db_url)
    driver, stop = Driver(run.kits, run.bases), asyncio.Event()
    load = asyncio.create_task(driver.run(cases=5000, clients=16, stop=stop))
    await run.wait(lambda: _true(driver.tally.statuses[("submit", 201)] >= 30), 120, "cases to be filed")
    await asyncio.to_thread(run.redis.stop)
    stopped, filed_before = time.monotonic(), driver.tally.statuses[("submit", 201)]
    run.say("  Redis stopped under load")
    ready_down = await asyncio.to_thread(http_status, run.bases[0] + "/readyz", 15)
    await asyncio.sleep(6)
    filed_while_down = driver.tally.statuses[("submit", 201)] - filed_before
    await asyncio.to_thread(run.redis.start)
    run.say(f"  Redis started again after {time.monotonic() - stopped:.1f}s; "
            f"{filed_while_down} cases filed meanwhile")

    async def ready():
        return await asyncio.to_thread(http_status, run.bases[0] + "/readyz") == 200

    await run.wait(ready, 30, "/readyz to answer 200 again")
    await asyncio.sleep(3)  # and on under load for a while with the broker back
    stop.set()
    await load
    whole = await run.drained_and_whole(driver.tally, since)
    expect(ready_down == 503, f"/readyz answered {ready_down} with the broker down (want 503)")
    expect(filed_while_down > 0, "no case was filed while the broker was down")
    expect(whole["retried_handovers"] > 0, "no hand-over failed: the outage was not felt")
    run.all_alive()
    return {"readyz_while_down": ready_down, "filed_while_down": filed_while_down, **whole}


async def postgres_restart(run: FaultRun) -> dict:
    """Stop PostgreSQL and start it again: 503 while down, and every process recovers by itself."""
    import httpx

    kit = run.kits["fault01"]
    company = kit["companies"][0]
    base = run.bases[0]
    since = await last_case_id(run.db_url)
    driver = Driver(run.kits, run.bases)
    tally = driver.tally

    async def submit(http, label: str):
        nonce = uuid.uuid4().hex
        response = await driver.call(http, "submit", "POST", f"{base}/t/fault01/api/v1/cases", company["token"], {
            "category": "municipal", "title": f"{label} {nonce}", "description": "数据库重启前后提交的诉求"})
        if response is not None and response.status_code == 201:
            tally.created["fault01"][nonce] = response.json()["id"]
        return response

    async with httpx.AsyncClient(timeout=30) as http:
        for _ in range(3):
            await submit(http, "重启前")
        expect((await http.get(f"{base}/readyz")).status_code == 200, "/readyz not 200 before the restart")
        await asyncio.to_thread(run.cluster.stop)
        stopped = time.monotonic()
        run.say("  PostgreSQL stopped")
        started = time.monotonic()
        ready_down = (await http.get(f"{base}/readyz")).status_code
        ready_seconds = time.monotonic() - started
        health_down = (await http.get(f"{base}/healthz")).status_code
        response = await http.post(f"{base}/t/fault01/api/v1/cases", headers={
            "Authorization": f"Bearer {company['token']}"}, json={
            "category": "municipal", "title": "停机时提交", "description": "数据库停机时提交"})
        submit_down, submit_body = response.status_code, response.text[:200]
        page_down = (await http.get(f"{base}/t/fault01/login")).status_code
        await asyncio.sleep(3)  # the worker and schedulers meet the outage too
        await asyncio.to_thread(run.cluster.start)
        restarted = time.monotonic()
        run.say(f"  PostgreSQL started again after {restarted - stopped:.1f}s")

        async def ready():
            try:
                return (await http.get(f"{base}/readyz")).status_code == 200
            except httpx.HTTPError:
                return False

        await run.wait(ready, 60, "/readyz to answer 200 again")
        recovered = time.monotonic() - restarted
        for _ in range(5):
            await submit(http, "重启后")
    after = datetime.now(timezone.utc)
    whole = await run.drained_and_whole(tally, since)

    async def ticked_again():
        rows = await run.sql("SELECT count(*) AS n FROM scheduler_run WHERE job = 'fault_tick' AND started_at > $1",
                             after)
        return rows[0]["n"] >= 2

    await run.wait(ticked_again, 60, "the scheduler to run its job again")
    expect(ready_down == 503 and ready_seconds < 10,
           f"/readyz answered {ready_down} in {ready_seconds:.1f}s with the database down (want 503 promptly)")
    expect(health_down == 200, f"/healthz answered {health_down} with the database down (want 200: alive)")
    expect(submit_down == 503, f"a submission answered {submit_down} with the database down (want 503): "
                               f"{submit_body}")
    expect(page_down == 503, f"a page answered {page_down} with the database down (want 503)")
    run.all_alive()
    return {"readyz_while_down": ready_down, "submit_while_down": submit_down, "page_while_down": page_down,
            "recovered_seconds": round(recovered, 1), **whole}


RUNNERS = {"worker-kill": worker_kill, "scheduler-failover": scheduler_failover,
           "broker-restart": broker_restart, "postgres-restart": postgres_restart}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                        help=f"which to run (default: all): {', '.join(SCENARIOS)}")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--keep", action="store_true", help="keep the logs even when everything passed")
    args = parser.parse_args(argv)
    unknown = [s for s in args.scenarios if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r} (choose from {', '.join(SCENARIOS)})")
    chosen = [s for s in SCENARIOS if s in args.scenarios] or list(SCENARIOS)
    say = lambda *a: print(*a, flush=True)  # noqa: E731
    exit_on_sigterm()
    run = FaultRun(say)
    results: dict = {}
    try:
        run.setup()
        for name in chosen:
            say(f"== {name}")
            started = time.monotonic()
            try:
                outcome = asyncio.run(RUNNERS[name](run))
                results[name] = {"ok": True, "seconds": round(time.monotonic() - started, 1), **outcome}
                say(f"  ok: {outcome}")
            except Exception as exc:  # noqa: BLE001 - report and go on with the next scenario
                results[name] = {"ok": False, "error": f"{exc.__class__.__name__}: {exc}"}
                say(f"  FAILED: {exc.__class__.__name__}: {exc}")
                for proc in run.supervisor.procs:
                    say(f"  --- {proc}\n{run.supervisor.tail(proc, 8)}")
                _restore(run)
    except Exception as exc:  # noqa: BLE001 - the set-up itself failed
        results["setup"] = {"ok": False, "error": f"{exc.__class__.__name__}: {exc}"}
        say(f"set-up FAILED: {exc}")
    finally:
        ok = all(r["ok"] for r in results.values()) and len(results) == len(chosen)
        run.cleanup(keep_logs=args.keep or not ok)
        if args.json:
            Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    say("faults survived" if ok else "some faults were NOT survived")
    raise SystemExit(0 if ok else 1)


def _restore(run: FaultRun) -> None:
    """After a failed scenario, bring back whatever it stopped, so the next one starts whole."""
    try:
        if run.cluster is not None and not (run.cluster.data / "postmaster.pid").exists():
            run.cluster.start()
        if run.redis is not None and not run.redis.ping():
            run.redis.start()
        for name in list(run.supervisor.procs):
            if not run.supervisor.alive(name) and not name.startswith("redis"):
                if name.startswith("worker"):
                    run.stack.worker(name)
                elif name.startswith("scheduler"):
                    run.stack.scheduler(name)
                elif name.startswith("web"):
                    run.stack.serve(name, port=run.stack.ports[name])
    except Exception as exc:  # noqa: BLE001
        run.say(f"  (could not restore everything: {exc})")


if __name__ == "__main__":
    main()
