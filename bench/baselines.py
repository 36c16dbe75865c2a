"""Raw SQL baselines (asyncpg): for each measured endpoint, hand-written queries that fetch the
same answer, with the tenant named explicitly (connected as the database owner, so without the
row-level-security check the app pays).  They show what the database alone needs for the page.

On SQLite (the embedded default) the same functions run through `SqlitePool`: aiosqlite
connections that answer asyncpg's calls, `$n` read as `?n` and `= ANY($n::type[])` as a JSON list;
the one query SQLite cannot say (DISTINCT ON) has its own text."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone

OPEN = ["submitted", "dispatched", "in_progress", "refusal_pending", "refused", "under_review"]

LIST = """SELECT c.id, c.number, c.title, c.status, c.due_date, c.due_confirmed, c.escalated, c.overdue,
  c.overturned, c.refused_count, c.submitted_at, c.updated_at, c.rating, c.version, co.name AS company_name,
  d.name_zh AS department_name, d.code AS department_code, cat.name_zh AS category_name,
  u.display_name AS handler_name
FROM case_file c LEFT JOIN company co ON co.id = c.company LEFT JOIN department d ON d.id = c.department
  LEFT JOIN category cat ON cat.id = c.category LEFT JOIN app_user u ON u.id = c.handler
WHERE c.tenant_id = $1 {where} ORDER BY {order} LIMIT 20"""
COUNT = "SELECT count(*) FROM case_file c WHERE c.tenant_id = $1 {where}"
FEEDBACK = """SELECT DISTINCT ON (e."case") e."case", e.action, e.reason, e.created_at FROM case_event e
WHERE e.tenant_id = $1 AND e."case" = ANY($2::int[]) ORDER BY e."case", e.seq DESC"""

# SQLite has no DISTINCT ON; with max() the bare columns come from the row of the highest seq
FEEDBACK_SQLITE = """SELECT e."case", e.action, e.reason, e.created_at, max(e.seq) AS seq FROM case_event e
WHERE e.tenant_id = $1 AND e."case" = ANY($2::int[]) GROUP BY e."case"
"""

FIGURES = """SELECT c.department, to_char(c.submitted_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') AS month,
  co.township, count(*) AS reported, count(*) FILTER (WHERE c.status = 'closed') AS completed,
  count(*) FILTER (WHERE c.status = ANY($2::text[])) AS in_progress,
  count(*) FILTER (WHERE c.overdue AND c.status = ANY($2::text[])) AS overdue,
  count(*) FILTER (WHERE c.escalated) AS escalated, count(*) FILTER (WHERE c.refused_count > 0) AS refused,
  count(*) FILTER (WHERE c.overturned) AS overturned, count(*) FILTER (WHERE c.dispatched_at IS NOT NULL) AS dispatched,
  count(*) FILTER (WHERE c.resolved_at IS NOT NULL OR c.status = 'closed') AS outcomes,
  count(*) FILTER (WHERE c.rating <> '') AS rated,
  count(*) FILTER (WHERE c.rating IN ('satisfied', 'basically_satisfied')) AS satisfied,
  sum(extract(epoch FROM c.closed_at - c.submitted_at) / 86400) FILTER (WHERE c.status = 'closed') AS days_total
FROM case_file c JOIN company co ON co.id = c.company
WHERE c.tenant_id = ANY($1::int[]) AND c.status <> 'merged' GROUP BY 1, 2, 3"""

CASE = """SELECT c.*, co.name AS company_name, co.credit_code, d.name_zh AS department_name,
  cat.name_zh AS category_name, h.display_name AS handler_name, s.display_name AS submitter_name
FROM case_file c LEFT JOIN company co ON co.id = c.company LEFT JOIN department d ON d.id = c.department
  LEFT JOIN category cat ON cat.id = c.category LEFT JOIN app_user h ON h.id = c.handler
  LEFT JOIN app_user s ON s.id = c.submitted_by
WHERE c.tenant_id = $1 AND c.id = $2"""
TIMELINE = """SELECT e.seq, e.action, e.actor_role, e.reason, e.before, e.after, e.data, e.created_at,
  u.display_name AS actor_name FROM case_event e LEFT JOIN app_user u ON u.id = e.actor
WHERE e.tenant_id = $1 AND e."case" = $2 ORDER BY e.seq"""
REFUSALS = """SELECT r.*, s.level, s.decision, s.comment, s.created_at AS signed_at, u.display_name AS signer_name
FROM refusal r LEFT JOIN sign_off s ON s.refusal = r.id AND s.tenant_id = r.tenant_id
  LEFT JOIN app_user u ON u.id = s.signer
WHERE r.tenant_id = $1 AND r."case" = $2 ORDER BY r.id, s.id"""
REVIEWS = """SELECT * FROM review WHERE tenant_id = $1 AND "case" = $2 ORDER BY id"""

SWEEP = """UPDATE case_file SET overdue = true
WHERE tenant_id = $1 AND status = ANY($2::text[]) AND due_date < $3 AND NOT overdue"""


@dataclass
class Context:
    """What the queries are about: the measured tenant, its district's tenants, sample cases."""

    tenant_id: int
    rollup_ids: list[int]
    department_id: int
    case_ids: list[int]
    search: str  # the LIKE pattern of the Chinese query
    numbers: list[str] = field(default_factory=list)  # case numbers (受理编号) to look up, as typed


async def console(conn, ctx: Context, where: str = "", order: str = "c.id DESC", args: tuple = ()) -> int:
    rows = await conn.fetch(LIST.format(where=where, order=order), ctx.tenant_id, *args)
    await conn.fetchval(COUNT.format(where=where), ctx.tenant_id, *args)
    await conn.fetch(FEEDBACK_SQLITE if getattr(conn, "dialect", "") == "sqlite" else FEEDBACK, ctx.tenant_id,
                     [r["id"] for r in rows])
    return 200


async def console_filtered(conn, ctx: Context) -> int:
    return await console(conn, ctx, "AND c.status = ANY($2::text[]) AND c.department = $3",
                         "c.due_date ASC, c.id DESC", (OPEN, ctx.department_id))


async def console_search(conn, ctx: Context) -> int:
    return await console(conn, ctx, "AND c.search_text LIKE $2", "c.id DESC", (ctx.search,))


NUMBER_WHERE = "AND ((c.number >= $2 AND c.number < $3) OR c.search_text LIKE $4)"


def number_args(number: str) -> tuple[str, str, str]:
    """NUMBER_WHERE's arguments for a case number as typed: its index range, or the text (as the app)."""
    from core.cases.search import _successor, number_prefix

    prefix = number_prefix(number) or ""
    return prefix, _successor(prefix) or "~", like_pattern(prefix)


async def console_number(conn, ctx: Context, i: int) -> int:
    """The console searched by a case number (受理编号)."""
    return await console(conn, ctx, NUMBER_WHERE, "c.id DESC", number_args(ctx.numbers[i % len(ctx.numbers)]))


async def figures(conn, ctx: Context) -> int:
    await conn.fetch(FIGURES, [ctx.tenant_id], OPEN)
    return 200


async def figures_rollup(conn, ctx: Context) -> int:
    await conn.fetch(FIGURES, ctx.rollup_ids, OPEN)
    return 200


async def case_page(conn, ctx: Context, i: int) -> int:
    case_id = ctx.case_ids[i % len(ctx.case_ids)]
    await conn.fetchrow(CASE, ctx.tenant_id, case_id)
    await conn.fetch(TIMELINE, ctx.tenant_id, case_id)
    await conn.fetch(REFUSALS, ctx.tenant_id, case_id)
    await conn.fetch(REVIEWS, ctx.tenant_id, case_id)
    return 200


async def submit(conn, tenant: dict, i: int) -> int:
    """What a submission writes: the case, its number, the event on the chain (hashed like the
    app, so the record still verifies) with the head updated, and the dispatchers' notice."""
    from core.cases.audit import event_hash

    now = datetime.now(timezone.utc)
    title = f"基准测试提交 {i}"
    async with conn.transaction():
        case_id = await conn.fetchval(
            """INSERT INTO case_file (tenant_id, number, company, submitted_by, category, title, description,
               search_text, status, submitted_at, updated_at) VALUES ($1, '', $2, $3, $4, $5, $6, $7, 'submitted',
               $8, $8) RETURNING id""", tenant["id"], tenant["company"], tenant["user"], tenant["category"], title,
            "厂区附近排水管淤积，请尽快疏通。", " 基准 准测 厂区 排水 ", now)
        await conn.execute("UPDATE case_file SET number = $2 WHERE id = $1", case_id,
                           f"BE{now.year}{case_id:06d}")
        head = await conn.fetchrow("UPDATE audit_head SET last_seq = last_seq + 1 WHERE tenant_id = $1 "
                                   "RETURNING last_seq, last_hash", tenant["id"])
        fields = {"case": case_id, "actor": tenant["user"], "actor_role": "company", "action": "submit",
                  "reason": "", "before": "", "after": "submitted",
                  "data": json.dumps({"category": tenant["category_code"], "on_behalf": False}, sort_keys=True)}
        digest = event_hash(tenant["id"], head["last_seq"], fields, now, head["last_hash"])
        await conn.execute(
            """INSERT INTO case_event (tenant_id, seq, "case", actor, actor_role, action, reason, before, after, data,
               created_at, prev_hash, hash) VALUES ($1, $2, $3, $4, 'company', 'submit', '', '', 'submitted', $5, $6,
               $7, $8)""", tenant["id"], head["last_seq"], case_id, tenant["user"], fields["data"], now,
            head["last_hash"], digest)
        await conn.execute("UPDATE audit_head SET last_hash = $2 WHERE tenant_id = $1", tenant["id"], digest)
        await conn.execute("INSERT INTO outbox_message (message_id, tenant_id, actor, payload) VALUES ($1, $2, $3, $4)",
                           str(uuid.uuid4()), tenant["id"], "deliver_notification",
                           json.dumps({"case": case_id}))
    return 200


def like_pattern(query: str) -> str:
    from core.cases.search import query_terms

    return "%" + "%".join(f" {t} " for t in query_terms(query)) + "%"


# -- SQLite ---------------------------------------------------------------------------------------

_ANY = re.compile(r"= ANY\(\$(\d+)::\w+\[\]\)")
_PARAM = re.compile(r"\$(\d+)")


def sqlite_sql(sql: str, args: tuple) -> tuple[str, tuple]:
    """asyncpg's statement and arguments as SQLite takes them: `$n` → `?n`, a list → JSON."""
    sql = _PARAM.sub(r"?\1", _ANY.sub(r"IN (SELECT value FROM json_each($\1))", sql))
    return sql, tuple(json.dumps(a) if isinstance(a, list) else a for a in args)


class SqliteConnection:
    """One aiosqlite connection answering the asyncpg calls the baselines make."""

    dialect = "sqlite"

    def __init__(self, db):
        self.db = db

    @classmethod
    async def open(cls, path: str, busy_seconds: float = 60) -> "SqliteConnection":
        import aiosqlite
        import piccolo.engine.sqlite  # noqa: F401 - registers the adapters Piccolo stores values with

        db = await aiosqlite.connect(path, timeout=busy_seconds, isolation_level=None,
                                     detect_types=sqlite3.PARSE_DECLTYPES)
        db.row_factory = sqlite3.Row
        return cls(db)

    async def fetch(self, sql: str, *args) -> list:
        async with self.db.execute(*sqlite_sql(sql, args)) as cursor:
            return list(await cursor.fetchall())

    async def fetchrow(self, sql: str, *args):
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, *args):
        row = await self.fetchrow(sql, *args)
        return None if row is None else row[0]

    async def execute(self, sql: str, *args) -> None:
        await self.fetch(sql, *args)

    @asynccontextmanager
    async def transaction(self):
        """A write transaction, begun IMMEDIATE (as the app's): the lock first, then the reads."""
        await self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            await self.db.execute("ROLLBACK")
            raise
        await self.db.execute("COMMIT")

    async def close(self) -> None:
        await self.db.close()


class SqlitePool:
    """`size` SqliteConnections to one file, handed out as asyncpg's pool does."""

    def __init__(self, path: str, size: int):
        self.path, self.size = path, size
        self.idle: asyncio.Queue = asyncio.Queue()
        self.all: list[SqliteConnection] = []

    async def open(self) -> "SqlitePool":
        for _ in range(self.size):
            conn = await SqliteConnection.open(self.path)
            self.all.append(conn)
            self.idle.put_nowait(conn)
        return self

    @asynccontextmanager
    async def acquire(self):
        conn = await self.idle.get()
        try:
            yield conn
        finally:
            self.idle.put_nowait(conn)

    async def close(self) -> None:
        for conn in self.all:
            await conn.close()
