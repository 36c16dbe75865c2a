"""Load with nothing lost (压力测试 · 不丢不重): many companies filing at once, on PostgreSQL + Redis
or on the embedded SQLite with its in-process worker.

    python -m bench.load                             # 10,000 cases, 200 clients, 10 tenants
    python -m bench.load --cases 1000 --clients 50   # the quick version (make test-load)
    python -m bench.load --database-url sqlite:// --cases 1000 --clients 50   # SQLite (make test-load)

PostgreSQL: creates a fresh database `qinqing_load_<pid>` on `--database-url`'s server and a
private Redis (or uses `--broker-url`); starts two `qinqing serve` processes, two `qinqing worker`s
and one `qinqing scheduler` (the outbox relay).  SQLite (`sqlite://` for a file in the run's
temporary var dir, or `sqlite:///PATH` for a new file there): no broker, one `qinqing serve`
whose in-process worker relays and applies the outbox.  Either way it runs `qinqing migrate`,
applies a generated manifest per tenant with `qinqing tenant apply` (a bureau with its section
and signers, a dispatcher), makes companies, company users and API tokens, and drives the web
processes over loopback with async httpx clients: each client submits cases (POST
/t/<slug>/api/v1/cases) and reads each one back (GET …/cases/<id>), and, interleaved, lists its
tenant's cases as the dispatcher and dispatches one submitted case every other turn, and has the
handler accept and refuse a dispatched one every fourth.

Every POST carries an `Idempotency-Key`; a request that got no answer (a dropped connection, a
timeout) or a 503 is sent again with the same key (at most RETRIES times, after the 503's
Retry-After), so a retry never files a case twice: the first answer comes back, marked
`Idempotent-Replayed`.  The run reports the retries and the replays among them.  When the outbox
is drained (and the queue empty) it checks that

- every case is stored exactly once: per tenant as many as 201 answers, each title's nonce (sent
  by the client) once and under the id its answer gave, none the client never sent, one
  `submit` event per case;
- every outbox message was sent and applied exactly once in effect: a `processed_message` row for
  each, none failed or dead-lettered, and exactly one notification per notification message;
- `qinqing audit verify` passes for every tenant;
- no request saw a 5xx (nor any other answer than the one expected, nor no answer after its
  retries), and the web processes logged no error (a client that left is not a server error),

prints throughput, latency percentiles and the counts, and exits 1 on any loss, duplicate or
error.  Every process is stopped (by process group) and the database dropped (the SQLite file
removed), also on failure; the logs are kept and named when the run fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bench.load_checks import (
    check_audit,
    check_cases,
    check_messages,
    logged_errors,
    wait_drained,
)
from bench.load_client import Driver, Tally, percentile
from bench.procs import (
    RedisServer,
    Stack,
    Supervisor,
    app_env,
    apply_tenants,
    create_database,
    drop_database,
    exit_on_sigterm,
    provision,
    qinqing,
)

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"





# -- afterwards ------------------------------------------------------------------------------------------


def machine() -> str:
    mem_kb = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    return f"{os.cpu_count()} CPU, {mem_kb / 1024 / 1024:.0f} GiB RAM, {platform.platform()}"


def latency_table(tally: Tally) -> dict:
    table = {}
    everything = [v for values in tally.latencies.values() for v in values]
    for kind, values in [*sorted(tally.latencies.items()), ("all", everything)]:
        table[kind] = {"n": len(values), **{f"p{p}": round(1000 * (percentile(values, p) or 0), 1)
                                            for p in (50, 95, 99)}}
    return table


def report(summary: dict, say=print) -> None:
    t = summary["traffic"]
    say(f"\n== load ({summary['engine']}): {summary['cases']} cases by {summary['clients']} clients on "
        f"{summary['tenants']} tenants ({summary['date']}, {summary['machine']})")
    say(f"  {t['requests']} requests in {t['seconds']:.1f}s: {t['requests_per_second']:.1f} req/s, "
        f"{t['cases_per_second']:.1f} cases/s; drained {summary['drain_seconds']:.1f}s later")
    for kind, row in summary["latency_ms"].items():
        say(f"  {kind:<9} n={row['n']:<6} p50={row['p50']}ms p95={row['p95']}ms p99={row['p99']}ms")
    say(f"  statuses: {summary['statuses']}")
    r = summary["retries"]
    say(f"  5xx answers: {r['five_xx']} ({r['five_xx_by_status'] or 'none'}); retries: {r['total']} "
        f"({r['by_reason'] or 'none'}); answers replayed by Idempotency-Key: {r['replayed'] or 'none'}; "
        f"errors logged by the web processes: {summary['logged_errors']}")
    for sample in r["samples"]:
        say(f"    · retried: {sample}")
    m = summary["messages"]
    say(f"  outbox: {m['outbox']} messages, {m['processed']} applied, {m['failed']} failed, "
        f"{m['dead_lettered']} dead-lettered; {m['notifications']} notifications for {m['notices']} notices; "
        f"{m['retried_handovers']} hand-overs retried")
    tenants = summary["stored"]["tenants"].values()
    stored, unanswered = sum(v["stored"] for v in tenants), sum(v["stored_unanswered"] for v in tenants)
    say(f"  cases stored: {stored} (one per 201 answer{f', {unanswered} sent but never answered' if unanswered else ''}); "
        "audit verify: "
        f"{'ok' if not any('audit' in p for p in summary['problems']) else 'FAILED'}")
    if summary["problems"]:
        say("  PROBLEMS:")
        for problem in summary["problems"]:
            say(f"    - {problem}")
        for sample in summary["samples"]:
            say(f"    · {sample}")
    else:
        say("  nothing lost, nothing doubled, no 5xx")


# -- the run -----------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=10_000)
    p.add_argument("--clients", type=int, default=200)
    p.add_argument("--tenants", type=int, default=10)
    p.add_argument("--companies", type=int, default=2, help="companies (each with a user) per tenant")
    p.add_argument("--web", type=int, help="`qinqing serve` processes (default: 2; 1 on SQLite)")
    p.add_argument("--workers", type=int, default=2, help="`qinqing worker` processes (PostgreSQL)")
    p.add_argument("--threads", type=int, default=8, help="threads per worker")
    p.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL") or DEFAULT_ADMIN_URL,
                   help="a PostgreSQL superuser URL (the run creates and drops its own database there), or "
                        "sqlite:// (a file in the run's var dir) or sqlite:///PATH (a new file)")
    p.add_argument("--broker-url", default="", help="a Redis URL (default: a private redis-server; "
                                                    "none on SQLite, whose worker runs inside `qinqing serve`)")
    p.add_argument("--json", help="also write the summary to this file")
    p.add_argument("--keep", action="store_true", help="keep the database and logs")
    return p.parse_args(argv)


def sqlite_target(url: str, var_dir: Path) -> Path:
    """The new SQLite file a `sqlite://…` URL names: `sqlite://` or `sqlite:///` a file in
    `var_dir`, else the app's reading of the URL (`sqlite:///var/x.db` relative to the project)."""
    from core.config import parse_database_url

    if url.rstrip("/") in ("sqlite:", "sqlite"):
        return var_dir / "load.db"
    return parse_database_url(url, var_dir).path.resolve()


def run(args: argparse.Namespace) -> int:
    sqlite = args.database_url.startswith("sqlite")
    if not sqlite and not args.database_url.startswith("postgres"):
        print("error: --database-url must be a PostgreSQL or a sqlite:// URL", file=sys.stderr)
        return 2
    if sqlite and args.broker_url:
        print("error: the SQLite run has no broker (its worker runs inside `qinqing serve`)", file=sys.stderr)
        return 2
    web = args.web or (1 if sqlite else 2)
    exit_on_sigterm()
    work = Path(tempfile.mkdtemp(prefix="qinqing-load-"))
    supervisor = Supervisor(work / "logs")
    name = f"qinqing_load_{os.getpid()}"
    redis_server, redis_client, db_created, db_file, ok = None, None, False, None, False
    say = lambda *a: print(*a, flush=True)  # noqa: E731
    begun = time.monotonic()
    try:
        if sqlite:
            db_file = sqlite_target(args.database_url, work / "var")
            if db_file.exists():
                say(f"error: {db_file} exists; the load run wants a new SQLite file")
                return 2
            db_file.parent.mkdir(parents=True, exist_ok=True)
            db_url, broker_url = f"sqlite:///{db_file}", ""
            say(f"load run in {work}: SQLite {db_file}, in-process worker")
        else:
            say(f"load run in {work}: database {name}")
            db_url = create_database(args.database_url, name)
            db_created = True
            if args.broker_url:
                broker_url = args.broker_url
            else:
                redis_server = RedisServer(supervisor)
                redis_server.start()
                broker_url = redis_server.url
            import redis

            redis_client = redis.Redis.from_url(broker_url)
        env = app_env(db_url, broker_url, work / "var")
        qinqing(["migrate"], env)
        slugs = [f"load{n:02d}" for n in range(1, args.tenants + 1)]
        apply_tenants(slugs, env, work, jobs=1 if sqlite else 3)
        kits = provision(slugs, env, args.companies)
        say(f"  {len(slugs)} tenants applied, {args.companies} companies and users each, tokens made "
            f"({time.monotonic() - begun:.0f}s)")

        stack = Stack(supervisor, env)
        webs = [f"web{n}" for n in range(1, web + 1)]
        bases = [stack.serve(w, wait=False) for w in webs]
        for w in webs:
            stack.wait_web(w)
        if sqlite:
            processes = {"web": web, "workers": "in-process", "schedulers": "in-process"}
            say(f"  {web} web process with its in-process worker up ({time.monotonic() - begun:.0f}s); "
                f"driving {args.cases} cases")
        else:
            for n in range(1, args.workers + 1):
                stack.worker(f"worker{n}", threads=args.threads)
            stack.scheduler("scheduler1")
            processes = {"web": web, "workers": args.workers, "threads": args.threads, "schedulers": 1}
            say(f"  {web} web, {args.workers} worker and 1 scheduler processes up "
                f"({time.monotonic() - begun:.0f}s); driving {args.cases} cases")

        tally = asyncio.run(Driver(kits, bases).run(args.cases, args.clients))
        say(f"  driven in {tally.seconds:.1f}s; waiting for the outbox to drain")
        drain_seconds = asyncio.run(wait_drained(db_url, redis_client, say=say))
        cases, case_problems = asyncio.run(check_cases(db_url, tally))
        messages, message_problems = asyncio.run(check_messages(db_url, redis_client))
        audit_out, audit_problems = check_audit(env, slugs)
        errors_logged, error_samples = logged_errors(supervisor, webs)
        say(f"  checked ({time.monotonic() - begun:.0f}s in all)")
        problems = list(case_problems) + message_problems + audit_problems
        if tally.server_errors():
            problems.append(f"{tally.server_errors()} requests answered 5xx (after their retries)")
        if tally.dropped():
            problems.append(f"{tally.dropped()} requests got no answer (after their retries)")
        if tally.unexpected() - tally.server_errors() - tally.dropped():
            problems.append(f"{tally.unexpected() - tally.server_errors() - tally.dropped()} requests answered "
                            "an unexpected 4xx")
        if sum(tally.five_xx.values()) > tally.server_errors():
            problems.append(f"{sum(tally.five_xx.values()) - tally.server_errors()} requests answered 5xx before "
                            "a retry succeeded")
        if errors_logged:
            problems.append(f"the web processes logged {errors_logged} errors")
        requests = tally.requests()
        summary = {
            "date": datetime.now().astimezone().isoformat(timespec="seconds"), "machine": machine(),
            "engine": "SQLite, in-process worker" if sqlite else "PostgreSQL + Redis",
            "cases": args.cases, "clients": args.clients, "tenants": args.tenants, "processes": processes,
            "traffic": {"requests": requests, "seconds": round(tally.seconds, 2),
                        "requests_per_second": round(requests / tally.seconds, 1) if tally.seconds else 0,
                        "cases_per_second": round(tally.statuses[("submit", 201)] / tally.seconds, 1)
                        if tally.seconds else 0},
            "latency_ms": latency_table(tally),
            "statuses": {f"{k} {s}": n for (k, s), n in sorted(tally.statuses.items())},
            "retries": {"total": tally.retried(),
                        "by_reason": {f"{k} {why}": n for (k, why), n in sorted(tally.retries.items())},
                        "replayed": dict(sorted(tally.replays.items())),
                        "five_xx": sum(tally.five_xx.values()),
                        "five_xx_by_status": {str(k): n for k, n in sorted(tally.five_xx.items())},
                        "samples": tally.retry_samples},
            "logged_errors": errors_logged,
            "drain_seconds": round(drain_seconds, 1), "stored": cases, "messages": messages,
            "audit": audit_out.strip().splitlines(), "problems": problems,
            "samples": tally.samples + error_samples,
        }
        report(summary, say)
        if args.json:
            Path(args.json).write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
        ok = not problems
        return 0 if ok else 1
    except Exception as exc:  # noqa: BLE001 - report, then stop everything below
        say(f"error: {exc.__class__.__name__}: {exc}")
        for proc in supervisor.procs:
            say(f"--- {proc} (last lines)\n{supervisor.tail(proc, 15)}")
        return 1
    finally:
        supervisor.stop_all()
        if redis_server is not None:
            redis_server.cleanup()
        if db_created and not args.keep:
            try:
                drop_database(args.database_url, name)
            except Exception as exc:  # noqa: BLE001
                say(f"warning: could not drop {name}: {exc}")
        if db_file is not None and not args.keep and db_file.parent != work / "var":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db_file}{suffix}").unlink(missing_ok=True)
        if ok and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            say(f"  logs kept in {work / 'logs'}")


def main(argv: list[str] | None = None) -> None:
    raise SystemExit(run(parse_args(argv)))


if __name__ == "__main__":
    main()
