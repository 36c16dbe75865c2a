"""The checks after a load or fault run (不丢不重): the outbox drained, every case stored once
under the id its answer gave, every message applied once, the record verified, no error logged."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
from collections import defaultdict
from pathlib import Path

from bench.load_client import Tally
from bench.procs import Supervisor, qinqing

QUEUE = "dramatiq:qinqing"


def sqlite_path(url: str) -> Path | None:
    """The file of a `sqlite:////ABSOLUTE/PATH` URL (the form the run hands around); None for a
    PostgreSQL URL."""
    return Path(url[len("sqlite:///"):]) if url.startswith("sqlite://") else None


class Db:
    """A connection to the run's database for the checks: asyncpg on PostgreSQL, the standard
    library's sqlite3 on SQLite (the server is another process: a short blocking read is fine).
    Queries are written once, with PostgreSQL's `$n` parameters; rows come back as dicts."""

    def __init__(self, url: str):
        self.url, self.path, self.conn = url, sqlite_path(url), None

    async def __aenter__(self) -> "Db":
        if self.path is not None:
            self.conn = sqlite3.connect(self.path, timeout=30)
            self.conn.row_factory = sqlite3.Row
        else:
            import asyncpg

            self.conn = await asyncpg.connect(self.url)
        return self

    async def __aexit__(self, *exc) -> None:
        if self.path is not None:
            self.conn.close()
        else:
            await self.conn.close()

    async def fetch(self, sql: str, *args) -> list[dict]:
        if self.path is not None:
            return [dict(row) for row in self.conn.execute(re.sub(r"\$(\d+)", r"?\1", sql), args).fetchall()]
        return [dict(row) for row in await self.conn.fetch(sql, *args)]

    async def fetchrow(self, sql: str, *args) -> dict | None:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, *args):
        row = await self.fetchrow(sql, *args)
        return next(iter(row.values())) if row else None


async def _backlog(conn: Db) -> dict:
    return dict(await conn.fetchrow("""
        SELECT (SELECT count(*) FROM outbox_message) AS outbox,
               (SELECT count(*) FROM outbox_message WHERE sent_at IS NULL) AS unsent,
               (SELECT count(*) FROM outbox_message o
                 WHERE NOT EXISTS (SELECT 1 FROM processed_message p WHERE p.message_id = o.message_id)
                   AND NOT EXISTS (SELECT 1 FROM failed_message f WHERE f.message_id = o.message_id)) AS unapplied
    """))


def queue_depth(redis_client) -> int:
    """Messages still queued, delayed or being worked on (not yet acknowledged); none without a
    broker (SQLite's in-process worker applies a message as it relays it)."""
    if redis_client is None:
        return 0
    return sum(int(redis_client.hlen(f"{QUEUE}{suffix}.msgs")) for suffix in ("", ".DQ"))


async def wait_drained(db_url: str, redis_client, timeout: float = 600, say=print) -> float:
    """Wait until every outbox row is sent and applied and the queue is empty; returns seconds."""
    started, last = time.monotonic(), None
    async with Db(db_url) as conn:
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


async def last_case_id(db_url: str) -> int:
    async with Db(db_url) as conn:
        return await conn.fetchval("SELECT coalesce(max(id), 0) AS id FROM case_file")


async def check_cases(db_url: str, tally: Tally, since: int = 0) -> tuple[dict, list[str]]:
    """Every case stored exactly once, looked up in the database by the nonces the client put in
    the titles: each answered 201 stored once under the id its answer gave, none the client never
    sent, one submit event per case; each step recorded as often as it was answered 200.  A case
    the client sent but never saw answered (its retries ran out) may be stored, once.  Only cases
    after id `since` count (a fault run drives several loads on one database)."""
    problems, tenants = [], {}
    async with Db(db_url) as conn:
        rows = await conn.fetch("""SELECT t.slug, c.id, c.title FROM case_file c JOIN tenant t ON t.id = c.tenant_id
                                   WHERE c.id > $1""", since)
        stored = defaultdict(lambda: defaultdict(list))  # slug → nonce → [case id]
        for row in rows:
            if row["slug"] in tally.created or row["slug"] in tally.sent:
                stored[row["slug"]][row["title"].rsplit(" ", 1)[-1]].append(row["id"])
        for slug in sorted(set(tally.created) | set(tally.sent)):
            created, sent, kept = tally.created[slug], tally.sent[slug] | set(tally.created[slug]), stored[slug]
            unanswered = [n for n in sent - set(created) if kept.get(n)]
            tenants[slug] = {"sent": len(sent), "201": len(created), "stored": sum(map(len, kept.values())),
                             "stored_unanswered": len(unanswered)}
            missing = [n for n in created if not kept.get(n)]
            doubled = [n for n, ids in kept.items() if len(ids) > 1]
            moved = [n for n, case_id in created.items() if len(kept.get(n, [])) == 1 and kept[n][0] != case_id]
            extra = [n for n in kept if n not in sent]
            if missing:
                problems.append(f"{slug}: {len(missing)} cases answered 201 are missing (e.g. {missing[0]})")
            if doubled:
                problems.append(f"{slug}: {len(doubled)} cases stored more than once (e.g. {doubled[0]}: "
                                f"ids {kept[doubled[0]]})")
            if moved:
                problems.append(f"{slug}: {len(moved)} cases stored under another id than answered "
                                f"(e.g. {moved[0]})")
            if extra:
                problems.append(f"{slug}: {len(extra)} cases stored that the client never sent (e.g. {extra[0]})")
        events = await conn.fetchrow("""
            SELECT count(*) FILTER (WHERE n <> 1) AS wrong, count(*) AS cases FROM (
              SELECT c.id, count(e.id) AS n FROM case_file c
              LEFT JOIN case_event e ON e."case" = c.id AND e.action = 'submit' WHERE c.id > $1 GROUP BY c.id) x""",
                                     since)
        if events["wrong"]:
            problems.append(f"{events['wrong']} cases without exactly one submit event")
        steps = {row["action"]: row["n"] for row in await conn.fetch(
            'SELECT action, count(*) AS n FROM case_event WHERE "case" > $1 GROUP BY action', since)}
        for kind in ("dispatch", "accept", "refuse"):
            answered = tally.statuses[(kind, 200)]
            if steps.get(kind, 0) != answered:
                problems.append(f"{steps.get(kind, 0)} {kind} events recorded but {answered} answered 200")
    return {"tenants": tenants, "events": steps}, problems


async def check_messages(db_url: str, redis_client) -> tuple[dict, list[str]]:
    """Every outbox message sent and applied exactly once in effect."""
    problems = []
    async with Db(db_url) as conn:
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
    row["dead_lettered"] = int(redis_client.zcard(f"{QUEUE}.XQ")) if redis_client is not None else 0
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


def logged_errors(supervisor: Supervisor, names: list[str]) -> tuple[int, list[str]]:
    """Errors the processes `names` logged (JSON records at ERROR or above, tracebacks): a
    client that left, a busy lock answered 503, are not errors and must not be logged as such."""
    count, samples = 0, []
    for name in names:
        path = supervisor.log_dir / f"{name}.log"
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if isinstance(record, dict):
                bad = str(record.get("level", "")).upper() in ("ERROR", "CRITICAL")
            else:  # a plain line: `ERROR - …` / `ERROR:…` (a logger outside `qinqing`), a traceback
                bad = line.startswith(("Traceback", "ERROR", "CRITICAL"))
            if bad:
                count += 1
                if len(samples) < 5:
                    samples.append(f"{name}: {line[:400]}")
    return count, samples
