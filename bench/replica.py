"""`bench/run --replica` (issue 23): the big screen's figures with their reads on a streaming replica
while submissions run at full rate on the primary, beside the same figures without the replica.

For the largest size: `.ci/replica up` (unless a replica is up already), wait until the replica has
replayed the size's database, then two phases, each with the same sustained submission load
(`submit_case` of bench/run, spread over every tenant, on the primary) and the same figures reads:

1. the server started as the main measurements start it, plus `DATABASE_REPLICA_URLS` naming the
   replica's copy of the database;
2. the same server without it (every read on the primary).

The figures are read where the big screen reads them: `/t/<slug>/screen/live` (the screen's
refresh; the same `payload()` as `/api/v1/figures`), for the tenant and its district roll-up
(`?scope=all`).  `/api/v1/figures` itself is not among the routes that read a replica
(`web.read_routing.REPLICA_ROUTES`), so it would measure the primary in both phases.

While each phase runs, the replica's lag is sampled twice a second (`pg_stat_replication` on the
primary, `pg_last_xact_replay_timestamp()` on the replica) and the transactions of the database
on each server are counted (`pg_stat_database`).  The share of the figures' reads the replica
served: its transactions in phase 1 (less its lag checks) over those plus the primary's for the
figures in the same phase (the primary's transactions less the submissions', counted alone in a
short calibration before the load).  (The app's own counters, `Replica.reads` and `fallbacks`,
are per process; the console shows one.)
The replica is taken down at the end only if this brought it up.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).absolute().parent.parent
REPLICA_PORT = int(os.environ.get("REPLICA_PORT", "5433"))
SAMPLE_SECONDS = 0.5
CALIBRATE = 40  # submissions counted on the primary alone, before the load
STATS_FLUSH = 11.0  # an idle backend reports its transactions to pg_stat_database within 10 s
LAG_PRIMARY = """SELECT COALESCE(EXTRACT(EPOCH FROM replay_lag), 0)::float8 AS lag,
    pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 AS behind
    FROM pg_stat_replication ORDER BY replay_lsn LIMIT 1"""
LAG_REPLICA = """SELECT CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
    ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END::float8"""
XACTS = "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1"


def replica_base(pg: str) -> str:
    """The primary's URL (`--pg`) with the replica's port."""
    parts = urlsplit(pg)
    host = parts.netloc.rsplit("@", 1)
    netloc = (host[0] + "@" if len(host) == 2 else "") + f"{parts.hostname}:{REPLICA_PORT}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def ci_replica(action: str) -> None:
    done = subprocess.run([str(ROOT / ".ci" / "replica"), action], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f".ci/replica {action} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


async def connect(run: Any, url: str):
    return await run.owner(url)


async def replica_is_up(run: Any, base: str) -> bool:
    try:
        conn = await connect(run, run.pg_url(base, "postgres"))
    except Exception:  # noqa: BLE001 - nothing on the port
        return False
    try:
        return bool(await conn.fetchval("SELECT pg_is_in_recovery()"))
    finally:
        await conn.close()


async def wait_replayed(run: Any, args, base: str, name: str, timeout: float = 600) -> float:
    """Until the replica has the database and has replayed the primary's WAL as of now; seconds waited."""
    started = time.monotonic()
    primary = await run.admin(args.pg)
    try:
        target = await primary.fetchval("SELECT pg_current_wal_lsn()::text")
    finally:
        await primary.close()
    while time.monotonic() - started < timeout:
        try:
            conn = await connect(run, run.pg_url(base, "postgres"))
            try:
                has = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
                done = await conn.fetchval("SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", target)
            finally:
                await conn.close()
            if has and done:
                return round(time.monotonic() - started, 1)
        except Exception as exc:  # noqa: BLE001 - still starting
            run.log(f"replica: not yet ({exc.__class__.__name__})")
        await asyncio.sleep(1.0)
    raise RuntimeError(f"the replica did not replay {name} in {timeout:.0f} s")


class Watch:
    """Samples the replica's lag and counts the database's transactions on both servers."""

    def __init__(self, run: Any, args, base: str, name: str):
        self.run, self.args, self.base, self.name = run, args, base, name
        self.lag_primary: list[float] = []
        self.lag_replica: list[float] = []
        self.behind_bytes: list[float] = []
        self.task: asyncio.Task | None = None

    async def xacts(self) -> tuple[int, int]:
        counts = []
        for url in (self.run.pg_url(self.args.pg, "postgres"), self.run.pg_url(self.base, "postgres")):
            conn = await connect(self.run, url)
            try:
                counts.append(int(await conn.fetchval(XACTS, self.name) or 0))
            finally:
                await conn.close()
        return counts[0], counts[1]

    async def _loop(self) -> None:
        primary = await self.run.admin(self.args.pg)
        replica = await connect(self.run, self.run.pg_url(self.base, "postgres"))
        try:
            while True:
                row = await primary.fetchrow(LAG_PRIMARY)
                if row is not None:
                    self.lag_primary.append(row["lag"])
                    self.behind_bytes.append(row["behind"] or 0)
                self.lag_replica.append(await replica.fetchval(LAG_REPLICA))
                await asyncio.sleep(SAMPLE_SECONDS)
        finally:
            await primary.close()
            await replica.close()

    def start(self) -> None:
        self.lag_primary, self.lag_replica, self.behind_bytes = [], [], []
        self.task = asyncio.create_task(self._loop())

    async def stop(self) -> dict:
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass

        def top(values: list[float]) -> float | None:
            return round(max(values), 3) if values else None
        return {"max_replay_lag_s": top(self.lag_primary), "max_replay_age_s": top(self.lag_replica),
                "max_behind_kb": round(max(self.behind_bytes) / 1024, 1) if self.behind_bytes else None,
                "samples": len(self.lag_replica)}


def figures_paths(slug: str) -> dict:
    return {"figures": f"/t/{slug}/screen/live", "figures_rollup": f"/t/{slug}/screen/live?scope=all"}


async def phase(run: Any, args, profile: dict, top: dict, results: dict, replica_url: str | None,
                watch: Watch | None, calibrate: bool = False) -> dict:
    """One server (with or without the replica), figures under a sustained submission load."""
    from bench.driver import measure
    from bench.generate import PASSWORD

    name = top["database"]
    url = run.pg_url(args.pg, name)
    slug, _, _, submitters = await run.sample(url, args.seed)
    extra = {"DATABASE_REPLICA_URLS": replica_url} if replica_url else {}
    tag = "replica" if replica_url else "primary"
    server = run.Server(url, args.workers, results["meta"]["broker_url"],
                        ROOT / "var" / "bench" / f"server-{name}-{tag}.log", extra_env=extra)
    clients = run.Clients(server.base, args.concurrency)
    entry: dict = {"server": "DATABASE_REPLICA_URLS=" + replica_url if replica_url else "primary only"}
    try:
        await server.ready()
        await run.login(clients.session, slug, f"dispatcher@{slug}", PASSWORD)
        clients.session.cookies.delete("qinqing_wrote")  # the login's read-your-writes window: not a reader's
        paths = figures_paths(slug)
        if calibrate:  # the transactions of one submission, on the primary with nothing else running
            await asyncio.sleep(STATS_FLUSH)
            before = (await watch.xacts())[0] if watch else 0
            for i in range(CALIBRATE):
                await run.submit_case(clients.api, submitters[i % len(submitters)], i)
            await asyncio.sleep(STATS_FLUSH)
            after = (await watch.xacts())[0] if watch else 0
            entry["xacts_per_submission"] = round((after - before) / CALIBRATE, 2)
        submitted: list[tuple[float, int]] = []

        async def post(i: int) -> int:
            status = await run.submit_case(clients.api, submitters[i % len(submitters)], i)
            submitted.append((time.perf_counter(), status))
            return status

        load = asyncio.create_task(measure("submit", post, concurrency=args.concurrency, warmup=0, count=0,
                                           duration=3600))
        await asyncio.sleep(3.0)  # the submissions at full rate before the first read is timed
        knobs = {"concurrency": args.concurrency, "warmup": profile["warmup"], "count": profile["requests"],
                 "max_seconds": profile["max_seconds"]}
        xacts_before = await watch.xacts() if watch else (0, 0)
        if watch:
            watch.start()
        started = time.perf_counter()
        entry["endpoints"] = {}
        for key, path in paths.items():
            result = await measure(key, lambda i, p=path: run.get(clients.session, p), **knobs)
            entry["endpoints"][key] = result.summary()
            entry["endpoints"][key]["calls"] = result.calls
        ended = time.perf_counter()
        lag = await watch.stop() if watch else {}
        xacts_after = await watch.xacts() if watch else (0, 0)
        load.cancel()
        try:
            await load
        except asyncio.CancelledError:
            pass
        during = [status for at, status in submitted if started <= at <= ended]
        entry["submit"] = {"per_second": round(sum(s == 201 for s in during) / (ended - started), 1),
                           "n": len(during), "errors": sum(not 200 <= s < 300 for s in during),
                           "seconds": round(ended - started, 1)}
        entry["lag"] = lag
        entry["xacts"] = {"primary": xacts_after[0] - xacts_before[0], "replica": xacts_after[1] - xacts_before[1]}
    finally:
        await clients.close()
        server.stop()
    return entry


async def measure_replica(run: Any, args, profile: dict, results: dict) -> dict:
    """The replica's measurement at the largest size (see the module)."""
    top = results["sizes"][-1]
    name = top["database"]
    base = replica_base(args.pg)
    brought_up = False
    out: dict = {"size": top["label"], "database": name, "replica": run.pg_url(base, name),
                 "endpoints": figures_paths("<slug>")}
    try:
        if await replica_is_up(run, base):
            run.log(f"replica: reusing the one up on :{REPLICA_PORT}")
        else:
            run.log("replica: .ci/replica up (pg_basebackup of the whole cluster)")
            clock = time.monotonic()
            ci_replica("up")
            brought_up = True
            out["up_seconds"] = round(time.monotonic() - clock, 1)
        out["brought_up"] = brought_up
        out["wait_replay_seconds"] = await wait_replayed(run, args, base, name)
        run.log(f"replica: {name} replayed (waited {out['wait_replay_seconds']} s)")
        watch = Watch(run, args, base, name)
        out["with_replica"] = await phase(run, args, profile, top, results, run.pg_url(base, name), watch,
                                          calibrate=True)
        run.log("replica: " + summary_line(out["with_replica"]))
        out["primary_only"] = await phase(run, args, profile, top, results, None, watch)
        run.log("primary only: " + summary_line(out["primary_only"]))
        out["share"] = replica_share(out, args.workers)
        run.log(f"replica: served ~{out['share']['share']:.0%} of the figures' reads" if out["share"]["share"]
                is not None else "replica: share unknown")
    finally:
        if brought_up:
            run.log("replica: .ci/replica down")
            ci_replica("down")
    return out


def summary_line(entry: dict) -> str:
    figs = ", ".join(f"{k} p95 {v['p95']} ms p50 {v['p50']} ms {v['rps']} req/s"
                     for k, v in entry["endpoints"].items())
    return (f"{figs}; submissions {entry['submit']['per_second']}/s; lag max {entry['lag'].get('max_replay_lag_s')} s"
            f"; xacts primary {entry['xacts']['primary']}, replica {entry['xacts']['replica']}")


def replica_share(out: dict, workers: int) -> dict:
    """Of the figures' transactions in the replica phase, the share the replica ran: its transactions
    less its lag checks (each process at most one a second), over those plus the primary's own for
    the figures — the primary's transactions less the submissions' (counted alone beforehand).
    The figures are kept in each process until a tenant's record moves, so most refreshes run
    none; both sides are counted under the same load, in the same phase."""
    with_replica = out["with_replica"]
    per_submission = with_replica.get("xacts_per_submission") or 0
    seconds = sum(v["seconds"] for v in with_replica["endpoints"].values())
    checks = workers * seconds  # an upper bound
    replica = with_replica["xacts"]["replica"]
    served = max(0.0, replica - checks)
    on_primary = max(0.0, with_replica["xacts"]["primary"] - with_replica["submit"]["n"] * per_submission)
    total = served + on_primary
    return {"replica_xacts": replica, "lag_checks_at_most": round(checks), "per_submission": per_submission,
            "primary_figures_xacts": round(on_primary), "share": min(1.0, served / total) if total else None,
            "share_upper": min(1.0, replica / (replica + on_primary)) if replica + on_primary else None}


def errors(out: dict) -> list[str]:
    found = []
    for side in ("with_replica", "primary_only"):
        entry = out.get(side) or {}
        for key, summary in entry.get("endpoints", {}).items():
            if summary["errors"]:
                found.append(f"replica {side} {key}: {summary['errors']} errors {summary['statuses']}")
        if entry.get("submit", {}).get("errors"):
            found.append(f"replica {side} submit: {entry['submit']['errors']} errors")
    return found
