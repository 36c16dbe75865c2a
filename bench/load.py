"""Load with nothing lost (压力测试 · 不丢不重): many companies filing at once on PostgreSQL + Redis.

    python -m bench.load                             # 10,000 cases, 200 clients, 10 tenants
    python -m bench.load --cases 1000 --clients 50   # the quick version (make test-load)

Creates a fresh database `qinqing_load_<pid>` on `--database-url`'s server and a private Redis
(or uses `--broker-url`), runs `qinqing migrate`, applies a generated manifest per tenant with
`qinqing tenant apply` (a bureau with its section and signers, a dispatcher) and makes companies,
company users and API tokens; starts two `qinqing serve` processes, two `qinqing worker`s and one
`qinqing scheduler` (the outbox relay), and drives them over loopback with async httpx clients:
each client submits cases (POST /t/<slug>/api/v1/cases) and, interleaved, dispatches one of its
tenant's submitted cases every other turn and has the handler accept and refuse a dispatched one
every fourth.  When the outbox is drained and the queue empty it checks that

- every case is stored exactly once: per tenant as many as 201 answers, each title's nonce once,
  one `submit` event per case;
- every outbox message was sent and applied exactly once in effect: a `processed_message` row for
  each, none failed or dead-lettered, and exactly one notification per notification message;
- `qinqing audit verify` passes for every tenant;
- no request saw a 5xx (nor any other answer than the one expected, nor a dropped connection),

prints throughput, latency percentiles and the counts, and exits 1 on any loss, duplicate or
error.  Every process is stopped (by process group) and the database dropped, also on failure;
the logs are kept and named when the run fails.
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
import uuid
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench.procs import (RedisServer, Stack, Supervisor, app_env, apply_tenants, create_database, drop_database,
                         exit_on_sigterm, provision, qinqing)

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
EXPECTED = {"submit": 201, "dispatch": 200, "accept": 200, "refuse": 200}
QUEUE = "dramatiq:qinqing"


# -- the driver ----------------------------------------------------------------------------------------

@dataclass
class Tally:
    """What the clients saw: statuses and latencies per kind of request, the cases created."""

    statuses: Counter = field(default_factory=Counter)  # (kind, status) → n; status 0 = no answer
    latencies: dict = field(default_factory=lambda: defaultdict(list))  # kind → seconds
    created: dict = field(default_factory=lambda: defaultdict(dict))  # slug → {nonce: case id}
    samples: list = field(default_factory=list)  # the first unexpected answers, for the report
    seconds: float = 0.0

    def unexpected(self) -> int:
        return sum(n for (kind, status), n in self.statuses.items() if status != EXPECTED.get(kind, 200))

    def server_errors(self) -> int:
        return sum(n for (_, status), n in self.statuses.items() if status >= 500)

    def dropped(self) -> int:
        return sum(n for (_, status), n in self.statuses.items() if status == 0)

    def requests(self) -> int:
        return sum(self.statuses.values())


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


class Driver:
    """`clients` concurrent callers spread over the tenants and web processes."""

    def __init__(self, kits: dict, bases: list[str], tally: Tally | None = None):
        self.kits, self.bases = kits, bases
        self.tally = tally or Tally()
        self.to_dispatch = {slug: deque() for slug in kits}
        self.to_refuse = {slug: deque() for slug in kits}

    async def call(self, http, kind: str, method: str, url: str, token: str, body: dict | None = None):
        started = time.perf_counter()
        try:
            response = await http.request(method, url, json=body, headers={"Authorization": f"Bearer {token}"})
        except Exception as exc:  # noqa: BLE001 - a dropped or refused connection is counted, not raised
            self.tally.latencies[kind].append(time.perf_counter() - started)
            self.tally.statuses[(kind, 0)] += 1
            self._sample(kind, 0, f"{exc.__class__.__name__}: {exc}")
            return None
        self.tally.latencies[kind].append(time.perf_counter() - started)
        self.tally.statuses[(kind, response.status_code)] += 1
        if response.status_code != EXPECTED.get(kind, 200):
            self._sample(kind, response.status_code, response.text[:300])
        return response

    def _sample(self, kind, status, text):
        if len(self.tally.samples) < 20:
            self.tally.samples.append(f"{kind} → {status or 'no answer'}: {text}")

    async def client(self, http, number: int, cases: int, slug: str, base: str, stop=None) -> None:
        kit = self.kits[slug]
        company = kit["companies"][number % len(kit["companies"])]
        api = f"{base}/t/{slug}/api/v1/cases"
        tokens = kit["tokens"]
        for i in range(cases):
            if stop is not None and stop.is_set():
                break
            nonce = uuid.uuid4().hex
            response = await self.call(http, "submit", "POST", api, company["token"], {
                "category": "municipal", "title": f"压测诉求 {slug} {number}-{i} {nonce}",
                "description": "厂区附近排水管淤积，雨天积水倒灌进车间，请尽快疏通。"})
            if response is not None and response.status_code == 201:
                case_id = response.json()["id"]
                self.tally.created[slug][nonce] = case_id
                self.to_dispatch[slug].append(case_id)
            if i % 2 == 0 and self.to_dispatch[slug]:
                case_id = self.to_dispatch[slug].popleft()
                response = await self.call(http, "dispatch", "POST", f"{api}/{case_id}/dispatch",
                                           tokens["dispatcher"], {})
                if response is not None and response.status_code == 200 and case_id % 2 == 0:
                    self.to_refuse[slug].append(case_id)
            if i % 4 == 1 and self.to_refuse[slug]:
                case_id = self.to_refuse[slug].popleft()
                response = await self.call(http, "accept", "POST", f"{api}/{case_id}/accept", tokens["handler"], {})
                if response is not None and response.status_code == 200:
                    await self.call(http, "refuse", "POST", f"{api}/{case_id}/refuse", tokens["handler"],
                                    {"reason": "不符合现行政策", "basis": "某某条例第五条"})

    async def run(self, cases: int, clients: int, stop: asyncio.Event | None = None) -> Tally:
        """Drive `cases` cases (or fewer: until `stop` is set) with `clients` concurrent clients."""
        import httpx

        slugs = sorted(self.kits)
        # Idle connections are dropped before the server's 5 s keep-alive timeout would close them
        # under a request just being sent (which the client would see as a dropped connection).
        limits = httpx.Limits(max_connections=clients + 10, max_keepalive_connections=clients + 10,
                              keepalive_expiry=2.0)
        async with httpx.AsyncClient(timeout=httpx.Timeout(120.0), limits=limits) as http:
            jobs = []
            for number in range(clients):
                share = cases // clients + (1 if number < cases % clients else 0)
                jobs.append(self.client(http, number, share, slugs[number % len(slugs)],
                                        self.bases[number % len(self.bases)], stop))
            started = time.perf_counter()
            await asyncio.gather(*jobs)
            self.tally.seconds = time.perf_counter() - started
        return self.tally


# -- afterwards ------------------------------------------------------------------------------------------

async def _backlog(conn) -> dict:
    return dict(await conn.fetchrow("""
        SELECT (SELECT count(*) FROM outbox_message) AS outbox,
               (SELECT count(*) FROM outbox_message WHERE sent_at IS NULL) AS unsent,
               (SELECT count(*) FROM outbox_message o
                 WHERE NOT EXISTS (SELECT 1 FROM processed_message p WHERE p.message_id = o.message_id)
                   AND NOT EXISTS (SELECT 1 FROM failed_message f WHERE f.message_id = o.message_id)) AS unapplied
    """))


def queue_depth(redis_client) -> int:
    """Messages still queued, delayed or being worked on (not yet acknowledged)."""
    return sum(int(redis_client.hlen(f"{QUEUE}{suffix}.msgs")) for suffix in ("", ".DQ"))


async def wait_drained(db_url: str, redis_client, timeout: float = 600, say=print) -> float:
    """Wait until every outbox row is sent and applied and the queue is empty; returns seconds."""
    import asyncpg

    started, last = time.monotonic(), None
    conn = await asyncpg.connect(db_url)
    try:
        while True:
            state = await _backlog(conn)
            depth = queue_depth(redis_client)
            if state["unsent"] == 0 and state["unapplied"] == 0 and depth == 0:
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"the outbox did not drain in {timeout:.0f}s: {state}, queue {depth}")
            if last is None or time.monotonic() - last > 10:
                say(f"  draining: {state['unsent']} unsent, {state['unapplied']} not applied, {depth} queued")
                last = time.monotonic()
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


async def last_case_id(db_url: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(db_url)
    try:
        return await conn.fetchval("SELECT coalesce(max(id), 0) FROM case_file")
    finally:
        await conn.close()


async def check_cases(db_url: str, tally: Tally, since: int = 0) -> tuple[dict, list[str]]:
    """Every case stored exactly once: counts per tenant, nonces, one submit event per case.
    Only cases after id `since` count (a fault run drives several loads on one database)."""
    import asyncpg

    problems, tenants = [], {}
    conn = await asyncpg.connect(db_url)
    try:
        rows = await conn.fetch("""SELECT t.slug, c.id, c.title FROM case_file c JOIN tenant t ON t.id = c.tenant_id
                                   WHERE t.slug = ANY($1::text[]) AND c.id > $2""", list(tally.created) or [""], since)
        stored = defaultdict(Counter)
        for row in rows:
            stored[row["slug"]][row["title"].rsplit(" ", 1)[-1]] += 1
        for slug, created in sorted(tally.created.items()):
            answered, kept = len(created), sum(stored[slug].values())
            tenants[slug] = {"201": answered, "stored": kept}
            if answered != kept:
                problems.append(f"{slug}: {answered} cases answered 201 but {kept} stored")
            missing = [n for n in created if stored[slug][n] == 0]
            doubled = [n for n, k in stored[slug].items() if k > 1]
            extra = [n for n in stored[slug] if n not in created]
            if missing:
                problems.append(f"{slug}: {len(missing)} cases answered 201 are missing (e.g. {missing[0]})")
            if doubled:
                problems.append(f"{slug}: {len(doubled)} cases stored twice (e.g. {doubled[0]})")
            if extra:
                problems.append(f"{slug}: {len(extra)} cases stored that no 201 answered (e.g. {extra[0]})")
        events = await conn.fetchrow("""
            SELECT count(*) FILTER (WHERE n <> 1) AS wrong, count(*) AS cases FROM (
              SELECT c.id, count(e.id) AS n FROM case_file c
              LEFT JOIN case_event e ON e."case" = c.id AND e.action = 'submit' WHERE c.id > $1 GROUP BY c.id) x""",
                                     since)
        if events["wrong"]:
            problems.append(f"{events['wrong']} cases without exactly one submit event")
        steps = dict(await conn.fetch('SELECT action, count(*) FROM case_event WHERE "case" > $1 GROUP BY action',
                                      since))
        for kind in ("dispatch", "accept", "refuse"):
            answered = tally.statuses[(kind, 200)]
            if steps.get(kind, 0) != answered:
                problems.append(f"{steps.get(kind, 0)} {kind} events recorded but {answered} answered 200")
    finally:
        await conn.close()
    return {"tenants": tenants, "events": steps}, problems


async def check_messages(db_url: str, redis_client) -> tuple[dict, list[str]]:
    """Every outbox message sent and applied exactly once in effect."""
    import asyncpg

    problems = []
    conn = await asyncpg.connect(db_url)
    try:
        row = dict(await conn.fetchrow("""
            SELECT (SELECT count(*) FROM outbox_message) AS outbox,
                   (SELECT count(*) FROM outbox_message WHERE sent_at IS NULL) AS unsent,
                   (SELECT count(*) FROM outbox_message WHERE attempts > 0) AS retried_handovers,
                   (SELECT count(*) FROM processed_message) AS processed,
                   (SELECT count(*) FROM outbox_message o LEFT JOIN processed_message p USING (message_id)
                     WHERE p.id IS NULL) AS unprocessed,
                   (SELECT count(*) FROM processed_message p LEFT JOIN outbox_message o USING (message_id)
                     WHERE o.id IS NULL) AS processed_without_outbox,
                   (SELECT count(*) FROM failed_message) AS failed,
                   (SELECT count(*) FROM outbox_message WHERE actor = 'deliver_notification') AS notices,
                   (SELECT count(*) FROM notification) AS notifications,
                   (SELECT count(*) FROM outbox_message o
                      LEFT JOIN (SELECT source, count(*) AS n FROM notification GROUP BY source) s
                        ON s.source = o.message_id
                     WHERE o.actor = 'deliver_notification' AND coalesce(s.n, 0) <> 1) AS notices_not_once,
                   (SELECT count(*) FROM notification n
                     WHERE NOT EXISTS (SELECT 1 FROM outbox_message o WHERE o.message_id = n.source))
                     AS notifications_without_message
        """))
    finally:
        await conn.close()
    row["dead_lettered"] = int(redis_client.zcard(f"{QUEUE}.XQ"))
    row["queued"] = queue_depth(redis_client)
    for key, label in (("unsent", "outbox messages never sent"), ("unprocessed", "outbox messages never applied"),
                       ("processed_without_outbox", "applied messages with no outbox row"),
                       ("failed", "messages failed for good"), ("dead_lettered", "messages dead-lettered"),
                       ("queued", "messages still queued"),
                       ("notices_not_once", "notification messages not applied exactly once"),
                       ("notifications_without_message", "notifications without their message")):
        if row[key]:
            problems.append(f"{row[key]} {label}")
    if row["processed"] != row["outbox"]:
        problems.append(f"{row['outbox']} outbox messages but {row['processed']} applied")
    return row, problems


def check_audit(env: dict, slugs: list[str]) -> tuple[str, list[str]]:
    try:
        out = qinqing(["audit", "verify"], env)
    except RuntimeError as exc:
        return str(exc), [f"qinqing audit verify failed: {exc}"]
    ok = {line.split(":", 1)[0] for line in out.splitlines() if ": ok (" in line}
    missing = [s for s in slugs if s not in ok]
    return out, [f"audit verify did not pass for {', '.join(missing)}"] if missing else []


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
    say(f"\n== load: {summary['cases']} cases by {summary['clients']} clients on {summary['tenants']} tenants "
        f"({summary['date']}, {summary['machine']})")
    say(f"  {t['requests']} requests in {t['seconds']:.1f}s: {t['requests_per_second']:.1f} req/s, "
        f"{t['cases_per_second']:.1f} cases/s; drained {summary['drain_seconds']:.1f}s later")
    for kind, row in summary["latency_ms"].items():
        say(f"  {kind:<9} n={row['n']:<6} p50={row['p50']}ms p95={row['p95']}ms p99={row['p99']}ms")
    say(f"  statuses: {summary['statuses']}")
    m = summary["messages"]
    say(f"  outbox: {m['outbox']} messages, {m['processed']} applied, {m['failed']} failed, "
        f"{m['dead_lettered']} dead-lettered; {m['notifications']} notifications for {m['notices']} notices; "
        f"{m['retried_handovers']} hand-overs retried")
    stored = sum(v["stored"] for v in summary["stored"]["tenants"].values())
    say(f"  cases stored: {stored} (one per 201 answer); audit verify: "
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
    p.add_argument("--web", type=int, default=2, help="`qinqing serve` processes")
    p.add_argument("--workers", type=int, default=2, help="`qinqing worker` processes")
    p.add_argument("--threads", type=int, default=8, help="threads per worker")
    p.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL") or DEFAULT_ADMIN_URL,
                   help="a PostgreSQL superuser URL; the run creates and drops its own database there")
    p.add_argument("--broker-url", default="", help="a Redis URL (default: a private redis-server)")
    p.add_argument("--json", help="also write the summary to this file")
    p.add_argument("--keep", action="store_true", help="keep the database and logs")
    return p.parse_args(argv)


def run(args: argparse.Namespace) -> int:
    if not args.database_url.startswith("postgres"):
        print("error: --database-url must be a PostgreSQL URL", file=sys.stderr)
        return 2
    exit_on_sigterm()
    work = Path(tempfile.mkdtemp(prefix="qinqing-load-"))
    supervisor = Supervisor(work / "logs")
    name = f"qinqing_load_{os.getpid()}"
    redis_server, db_created, ok = None, False, False
    say = lambda *a: print(*a, flush=True)  # noqa: E731
    begun = time.monotonic()
    try:
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
        apply_tenants(slugs, env, work)
        kits = provision(slugs, env, args.companies)
        say(f"  {len(slugs)} tenants applied, {args.companies} companies and users each, tokens made "
            f"({time.monotonic() - begun:.0f}s)")

        stack = Stack(supervisor, env)
        bases = [stack.serve(f"web{n}", wait=False) for n in range(1, args.web + 1)]
        for n in range(1, args.web + 1):
            stack.wait_web(f"web{n}")
        for n in range(1, args.workers + 1):
            stack.worker(f"worker{n}", threads=args.threads)
        stack.scheduler("scheduler1")
        say(f"  {args.web} web, {args.workers} worker and 1 scheduler processes up ({time.monotonic() - begun:.0f}s); "
            f"driving {args.cases} cases")

        tally = asyncio.run(Driver(kits, bases).run(args.cases, args.clients))
        say(f"  driven in {tally.seconds:.1f}s; waiting for the outbox to drain")
        drain_seconds = asyncio.run(wait_drained(db_url, redis_client, say=say))
        cases, case_problems = asyncio.run(check_cases(db_url, tally))
        messages, message_problems = asyncio.run(check_messages(db_url, redis_client))
        audit_out, audit_problems = check_audit(env, slugs)
        say(f"  checked ({time.monotonic() - begun:.0f}s in all)")
        problems = list(case_problems) + message_problems + audit_problems
        if tally.server_errors():
            problems.append(f"{tally.server_errors()} requests answered 5xx")
        if tally.dropped():
            problems.append(f"{tally.dropped()} requests got no answer")
        if tally.unexpected() - tally.server_errors() - tally.dropped():
            problems.append(f"{tally.unexpected() - tally.server_errors() - tally.dropped()} requests answered "
                            "an unexpected 4xx")
        requests = tally.requests()
        summary = {
            "date": datetime.now().astimezone().isoformat(timespec="seconds"), "machine": machine(),
            "cases": args.cases, "clients": args.clients, "tenants": args.tenants,
            "processes": {"web": args.web, "workers": args.workers, "threads": args.threads, "schedulers": 1},
            "traffic": {"requests": requests, "seconds": round(tally.seconds, 2),
                        "requests_per_second": round(requests / tally.seconds, 1) if tally.seconds else 0,
                        "cases_per_second": round(tally.statuses[("submit", 201)] / tally.seconds, 1)
                        if tally.seconds else 0},
            "latency_ms": latency_table(tally),
            "statuses": {f"{k} {s}": n for (k, s), n in sorted(tally.statuses.items())},
            "drain_seconds": round(drain_seconds, 1), "stored": cases, "messages": messages,
            "audit": audit_out.strip().splitlines(), "problems": problems, "samples": tally.samples,
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
        if ok and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            say(f"  logs kept in {work / 'logs'}")


def main(argv: list[str] | None = None) -> None:
    raise SystemExit(run(parse_args(argv)))


if __name__ == "__main__":
    main()
