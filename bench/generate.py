"""Benchmark data (基准数据): N tenants × M cases, written in bulk, indistinguishable for the app.

    python -m bench.generate --tenants N --cases M --seed S [--database-url URL] [--open F]
                             [--until YYYY-MM-DD] [--days D] [--jobs J]

Each tenant is `luqiao.toml` applied under a new slug (bench001, bench002, …) through the normal
onboarding (`apply_manifest`), every module enabled; tenants come in groups of ten: a district
followed by nine townships under it, so a district's roll-up covers ten tenants.  Then, bypassing
the per-case lifecycle but writing what it would have written:

- users and memberships: one account per role (`<role>@<slug>`, as the demo), a handler, section
  head, leader in charge and department head for every department (`<role>.<dept>@<slug>`), a user
  per company (`company.<n>@<slug>`; `company@<slug>` acts for the first company), all with the
  password `bench-Pass-2026` (one argon2 hash shared by all, to keep generation fast);
- an API token for `dispatcher@<slug>` and `company@<slug>` derived from the seed (`bench_token`),
  so the runner needs no secrets file;
- companies (M / 20, at least the demo's 60 or 12), cases shaped like the demo year (about 56%
  first refused, signed off three times, reviewed and nearly all overturned and re-dispatched;
  escalations, extensions, late cases with the automatic overdue and escalation events, ratings,
  withdrawals), the refusals, sign-offs, reviews and extensions behind them, and every step on
  the tenant's hash chain (`core.cases.audit.event_hash`, in time order), so `qinqing audit
  verify` passes;
- mediation disputes with parties, measures, agreements, instalments and their intake record;
  liaison pairings and their history, assistants, visits with follow-ups, needs (some filed as
  cases on the company's behalf), network people, salons and seats;
- the figures' per-case tally (`core.oversight.tally`), computed with the app's own function
  (`tally.rebuild()` through the app when that fails).

Cases are submitted over the `--days` (365) before `--until` (today); a case's steps that would
lie in the future are not taken, so the last days' cases are open.  `--open F` (0.03) makes that
share of cases open on purpose, submitted in the last 30 days; the overdue flags and automatic
escalations are those the hourly sweep would have made up to the start of `--until`, so the
sweep's first run that day has the day's work to do (`--unswept-days N`: the effects of the
last N working days are left undone, so the sweep has work even on a weekend).  The same seed and `--until` give the same
data; with `--jobs 1` also the same ids in every table (with more jobs, only the ids of refusals,
reviews and plugin records depend on which process reserved them first).

PostgreSQL: COPY (asyncpg `copy_records_to_table`), ids reserved in blocks from each table's
sequence under an advisory lock (so sequences are right afterwards), `--jobs` processes each
writing whole tenants, then ANALYZE.  It connects as the database owner (`QINQING_DB_OWNER=1`,
as `qinqing migrate`), which must bypass row-level security (a superuser such as `postgres`).
SQLite: `executemany` in one transaction per tenant.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import re
import sys
import time
from datetime import date, datetime, timedelta

PLACES = ["路桥大道", "金清大道", "南官大道", "腾达路", "银安街", "商城街", "西路桥大道", "长江路", "石曲街",
          "中心大道", "新安街", "双水路", "富仕路", "财富大道", "机场路", "滨海路"]
DETAILS = ["已经持续一周左右。", "多次反映仍未解决。", "影响企业正常生产经营。", "员工上下班很不方便。",
           "希望相关部门尽快协调。", "涉及周边多家企业。", "已向街道反映过一次。", "雨季前务必处理。",
           "请告知具体办理时限。", "材料已按要求提交齐全。", "企业订单紧张，时间很急。", "希望派人现场查看。",
           "附近企业也有同样情况。", "去年也出现过类似问题。", "请明确牵头部门。", "涉及安全生产。"]


from bench.tenants_plan import (  # noqa: E402,F401  (re-exported for bench/run and tests)
    DEPARTMENT_ROLES, PASSWORD, ROOT, TOKEN_USERS, TenantJob, bench_token, setup_tenants,
)
from bench.histories import SIGN_LEVELS, Tenant, _at_local, _local, plan_case  # noqa: E402
from bench.plugin_data import _liaison, _mediation  # noqa: E402
from bench.writers import close_writer, open_writer  # noqa: E402


# -- one tenant ---------------------------------------------------------------------------------

CASE_COLUMNS = ("id", "tenant_id", "number", "company", "submitted_by", "on_behalf", "category", "title",
                "description", "search_text", "status", "department", "handler", "escalated_to", "submitted_at",
                "dispatched_at", "accepted_at", "resolved_at", "closed_at", "due_date", "due_confirmed",
                "reminded_for", "escalated", "overdue", "overturned", "refused_count", "redispatch_count",
                "reopened", "resolution", "rating", "rating_comment", "merged_into", "version", "updated_at")
EVENT_COLUMNS = ("tenant_id", "seq", "case", "actor", "actor_role", "action", "reason", "before", "after", "data",
                 "created_at", "prev_hash", "hash")


class Texts:
    """Titles, descriptions and search terms, with the per-part terms cached (index_text of the
    parts is the union of the parts' terms in order, so caching them gives the same value)."""

    def __init__(self):
        from core.cases.demo import GENERIC, TOPICS

        self.topics, self.generic = TOPICS, GENERIC
        self.terms: dict[str, list[str]] = {}

    def part_terms(self, part: str) -> list[str]:
        found = self.terms.get(part)
        if found is None:
            from core.cases.search import HAN, _terms

            found = [ch for run in HAN.findall(part) for ch in run] + _terms(part)
            self.terms[part] = found
        return found

    def search_text(self, *parts: str) -> str:
        seen: dict[str, None] = {}
        for part in parts:
            for term in self.part_terms(part):
                seen.setdefault(term, None)
        return " " + " ".join(seen) + " "

    def case_text(self, rng: random.Random, category_code: str) -> tuple[str, str]:
        title, text = rng.choice(self.topics.get(category_code, self.generic))
        place = PLACES[rng.randrange(len(PLACES))]
        if rng.random() < 0.5:
            title = f"{place}{title}"[:200]
        return title, f"{text}地点：{place}。{DETAILS[rng.randrange(len(DETAILS))]}"


def company_name(index: int, i: int) -> tuple[str, str, str]:
    from core.cases.demo import FIRMS, TOWNSHIPS, TRADES

    trade, industry = TRADES[i % len(TRADES)]
    firm = FIRMS[(i + index) % len(FIRMS)]
    townships = TOWNSHIPS["luqiao"]
    name = f"{firm}{trade}{'有限公司' if i % 3 else '股份有限公司'}{'' if i < 20 else i}"
    return name, industry, townships[(i + index) % len(townships)]


async def write_tenant(writer, job: TenantJob, seed: int | str, until: date, anchor: datetime, span_days: float,
                       open_share: float, password_hash: str, unswept: int = 0) -> dict:
    from core.cases.audit import GENESIS, event_hash
    from core.cases.demo import demo_credit_code
    from core.workdays import WorkCalendar

    rng = random.Random(f"qinqing-bench-{seed}-{job.slug}")
    calendar = WorkCalendar()
    created = _at_local(until, 0) - timedelta(days=span_days + 1)
    tid = job.tenant_id
    counts: dict[str, int] = {}
    staff: dict = {}
    roles: dict = {}
    company_users = [0] * job.companies
    assistants: list[int] = []
    user_records, member_records = [], []
    for n, u in enumerate(job.users):
        uid = job.user_base + n + 1
        user_records.append((uid, u.username, u.display, "", password_hash, "zh_CN", True, 0, None, created))
        member_records.append((tid, uid, u.role, u.department, u.section))
        if u.username == f"{u.role}@{job.slug}":
            roles[u.role] = uid
        if u.role in DEPARTMENT_ROLES:
            staff[(u.role, u.department)] = uid
        if u.role == "company":
            number = 0 if u.username == f"company@{job.slug}" else int(u.username.split(".")[1].split("@")[0])
            company_users[number] = uid
        if u.role == "liaison_assistant":
            assistants.append(uid)
    swept_to = until
    for _ in range(unswept):
        swept_to = calendar.previous_workday(swept_to).date
    t = Tenant(job, calendar, anchor, _at_local(swept_to, 0), span_days * 86400, open_share, staff, roles,
               company_users, assistants)
    texts = Texts()
    division = f"33{job.index % 100:02d}{(job.index // 100) % 100:02d}"
    companies = []
    for i in range(job.companies):
        name, industry, township = company_name(job.index, i)
        companies.append((job.company_base + i + 1, tid, name, demo_credit_code(division, 10_000 + i), industry,
                          township, "", "联系人", f"1390576{i % 10000:04d}", "", "", created))
    members = [(tid, companies[i][0], company_users[i], i == 0) for i in range(job.companies)]

    # cases and their events
    clock = time.perf_counter()
    cases, events, plans = [], [], []
    for i in range(job.cases):
        meta, path = plan_case(rng, t, i)
        case_id = job.case_base + i + 1
        title, description = texts.case_text(rng, meta["cat_code"])
        name = companies[meta["company"]][2]
        f = path.fields
        t0 = meta["submitted_at"]
        cases.append((case_id, tid, f"{job.slug[:2].upper()}{_local(t0).year}{case_id:06d}",
                      companies[meta["company"]][0], meta["submitter"], meta["on_behalf"], meta["category"], title,
                      description, texts.search_text(title, description, name), path.status, f["department"],
                      f["handler"], f["escalated_to"], t0, f["dispatched_at"], f["accepted_at"], f["resolved_at"],
                      f["closed_at"], f["due_date"], f["due_confirmed"], f["reminded_for"], f["escalated"],
                      f["overdue"], f["overturned"], f["refused_count"], f["redispatch_count"], False,
                      f["resolution"], f["rating"], "", None, f["version"], f.get("updated_at", t0)))
        for k, step in enumerate(path.steps):
            events.append((step[0], case_id, k, step))
        plans.append((case_id, meta, path))
    counts["t_plan"] = time.perf_counter() - clock
    clock = time.perf_counter()
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    event_records = []
    prev = GENESIS
    for seq, (at, case_id, _, (_, action, role, actor, reason, data, before, after)) in enumerate(events, 1):
        fields = {"case": case_id, "actor": actor, "actor_role": role, "action": action, "reason": reason,
                  "before": before, "after": after,
                  "data": json.dumps(data, ensure_ascii=False, sort_keys=True) if data else "{}"}
        digest = event_hash(tid, seq, fields, at, prev)
        event_records.append((tid, seq, case_id, actor, role, action, reason, before, after, fields["data"], at,
                              prev, digest))
        prev = digest

    counts["t_hash"] = time.perf_counter() - clock
    clock = time.perf_counter()
    # refusals, sign-offs, reviews, extensions
    refused = [p for p in plans if any(s[1] == "refuse" for s in p[2].steps)]
    refusal_base = await writer.reserve("refusal", len(refused))
    refusals, signoffs, reviews, extensions = [], [], [], []
    for n, (case_id, meta, path) in enumerate(refused):
        refusal_id = refusal_base + n + 1
        steps = path.steps
        refuse = next(s for s in steps if s[1] == "refuse")
        signs = [s for s in steps if s[1] == "sign"]
        final = len(signs) == len(SIGN_LEVELS)
        refusals.append((refusal_id, tid, case_id, refuse[3], refuse[4], refuse[5]["basis"],
                         "done" if final else SIGN_LEVELS[len(signs)], "final" if final else "pending", refuse[0],
                         signs[-1][0] if final else None))
        for s in signs:
            signoffs.append((tid, refusal_id, s[2], s[3], "signed", "", s[0]))
        request = next((s for s in steps if s[1] == "request-review"), None)
        if request:
            hearing = next((s for s in steps if s[1] == "schedule-hearing"), None)
            rule = next((s for s in steps if s[1] == "rule"), None)
            reviews.append((tid, case_id, refusal_id, request[3], request[4],
                            "ruled" if rule else "scheduled" if hearing else "requested",
                            datetime.fromisoformat(hearing[5]["hearing_at"]) if hearing else None,
                            hearing[5]["place"] if hearing else "", "", rule[5]["verdict"] if rule else "",
                            rule[4] if rule else "", rule[3] if rule else None, rule[0] if rule else None,
                            request[0]))
    for case_id, meta, path in plans:
        ext = next((s for s in path.steps if s[1] == "extend"), None)
        if ext:
            decided = next((s for s in path.steps if s[1] == "decide-extension"), None)
            old_due = path.fields["ext_old"]
            extensions.append((tid, case_id, ext[3], 3, ext[4], "approved" if decided else "pending",
                               decided[3] if decided else None, "", old_due,
                               date.fromisoformat(decided[5]["due"]) if decided else None, ext[0],
                               decided[0] if decided else None))

    counts["t_records"] = time.perf_counter() - clock
    clock = time.perf_counter()
    async with writer.transaction():
        await writer.copy("app_user", ("id", "username", "display_name", "email", "password_hash", "locale", "active",
                                       "failed_logins", "locked_until", "created_at"), user_records)
        await writer.copy("membership", ("tenant_id", "user", "role", "department", "section"), member_records)
        await writer.copy("company", ("id", "tenant_id", "name", "credit_code", "industry", "township", "address",
                                      "contact_name", "contact_phone", "email", "liaison_name", "created_at"),
                          companies)
        await writer.copy("company_member", ("tenant_id", "company", "user", "is_liaison"), members)
        await writer.copy("case_file", CASE_COLUMNS, cases)
        await writer.copy("case_event", EVENT_COLUMNS, event_records)
        await writer.copy("audit_head", ("tenant_id", "last_seq", "last_hash"), [(tid, len(event_records), prev)])
        await writer.copy("refusal", ("id", "tenant_id", "case", "filed_by", "reason", "basis", "stage", "status",
                                      "created_at", "completed_at"), refusals)
        await writer.copy("sign_off", ("tenant_id", "refusal", "level", "signer", "decision", "comment",
                                       "created_at"), signoffs)
        await writer.copy("review", ("tenant_id", "case", "refusal", "requested_by", "reason", "status", "hearing_at",
                                     "place", "record", "verdict", "verdict_reason", "ruled_by", "ruled_at",
                                     "created_at"), reviews)
        await writer.copy("extension", ("tenant_id", "case", "requested_by", "days", "reason", "status",
                                        "decided_by", "comment", "old_due", "new_due", "created_at", "decided_at"),
                          extensions)
        tokens = []
        for key in TOKEN_USERS:
            if key in roles:
                secret = bench_token(seed, job.slug, f"{key}@{job.slug}")
                tokens.append((tid, roles[key], "bench", hashlib.sha256(secret.encode()).hexdigest(), secret[:10],
                               created, None, None))
        await writer.copy("api_token", ("tenant_id", "user", "name", "token_hash", "prefix", "created_at",
                                        "last_used_at", "revoked_at"), tokens)
        try:
            tallied = _tally_records(job, cases, companies, reviews, calendar)
        except Exception as exc:  # noqa: BLE001 - the app's tally changed shape: let it rebuild instead
            print(f"  note: computing the tally failed ({exc!r}); rebuilding it through the app", flush=True)
            tallied = None
        if tallied is not None:
            await writer.copy(*tallied)
            counts["tally"] = len(tallied[2])
        if "mediation" in job.plugins:
            counts.update(await _mediation(writer, rng, job, t, companies, until))
        if "liaison" in job.plugins:
            counts.update(await _liaison(writer, rng, job, t, companies, plans, until, created))
    counts["t_write"] = time.perf_counter() - clock
    counts.update(users=len(user_records), companies=len(companies), cases=len(cases), events=len(event_records),
                  refusals=len(refusals), sign_offs=len(signoffs), reviews=len(reviews), extensions=len(extensions))
    return counts


# -- the worker process -------------------------------------------------------------------------

def _tally_records(job: TenantJob, cases: list[tuple], companies: list[tuple], reviews: list[tuple], calendar):
    """The figures' per-case tally rows (`core.oversight.tally`), computed with the app's own
    function from the generated rows; None when this version of the app has no tally."""
    try:
        from core.oversight import tally
        from core.oversight.figures import COLUMNS
        from core.oversight.tables import CaseTally
    except ImportError:
        return None
    position = {name: k for k, name in enumerate(CASE_COLUMNS)}
    names = [getattr(c, "_alias", None) or c._meta.name for c in COLUMNS]
    township = {c[0]: c[5] for c in companies}
    reviewed = {r[1] for r in reviews if r[5] == "ruled"}
    columns = [c._meta.db_column_name for c in CaseTally._meta.columns if c._meta.name != "id"]
    rows = []
    for case in cases:
        row = {"id": case[0], **{n: township[case[position["company"]]] if n == "township" else case[position[n]]
                                 for n in names}}
        if row["status"] == "merged":
            continue
        values = {"tenant_id": job.tenant_id, **tally._tally_values(row, calendar, row["id"] in reviewed)}
        rows.append(tuple(values.get(c) for c in columns))
    return "case_tally", tuple(columns), rows


async def _after_load(slug: str, tallied: bool) -> None:
    """What the app recomputes after a bulk load, when the generator could not write it itself:
    the figures' per-case tally (`tally.rebuild()`)."""
    try:
        from core.oversight import tally
    except ImportError:
        return
    if tallied:
        return
    from tenants.registry import load_tenant
    from tenants.scope import tenant_scope

    async with tenant_scope(await load_tenant(slug)):
        await tally.rebuild()


async def write_shard_async(url: str, jobs: list[TenantJob], seed, until: date, anchor: datetime,
                            span_days: float, open_share: float, password_hash: str, quiet: bool = False,
                            unswept: int = 0) -> dict:
    """Write whole tenants, one transaction each."""
    writer = await open_writer(url)
    totals: dict[str, int] = {}
    try:
        for job in jobs:
            counts = await write_tenant(writer, job, seed, until, anchor, span_days, open_share, password_hash,
                                        unswept)
            clock = time.perf_counter()
            await _after_load(job.slug, bool(counts.get("tally")))
            counts["t_after"] = time.perf_counter() - clock
            for key, value in counts.items():
                totals[key] = totals.get(key, 0) + value
            if not quiet:
                print(f"  {job.slug}: {counts['cases']} cases, {counts['events']} events", flush=True)
    finally:
        await close_writer(writer)
    return totals


def write_shard(*args) -> dict:
    """A worker process's entry point."""
    return asyncio.run(write_shard_async(*args))


# -- the main process -----------------------------------------------------------------------------

async def reserve_blocks(url: str, jobs: list[TenantJob]) -> None:
    writer = await open_writer(url)
    try:
        for job in jobs:
            job.user_base = await writer.reserve("app_user", len(job.users))
            job.company_base = await writer.reserve("company", job.companies)
            job.case_base = await writer.reserve("case_file", job.cases)
    finally:
        await close_writer(writer)


async def finish(url: str) -> None:
    """Sequences at least the highest id of every table, then fresh planner statistics."""
    if url.startswith("sqlite"):
        writer = await open_writer(url)
        writer.db.execute("ANALYZE")
        await close_writer(writer)
        return
    writer = await open_writer(url)
    try:
        tables = await writer.fetch(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND column_name = 'id' AND column_default LIKE 'nextval(%'")
        for row in tables:
            table = row["table_name"]
            sequence = await writer.conn.fetchval("SELECT pg_get_serial_sequence($1, 'id')", f'"{table}"')
            await writer.conn.execute(
                f"SELECT setval('{sequence}', GREATEST((SELECT COALESCE(MAX(id), 0) FROM \"{table}\"), "
                f"(SELECT last_value FROM {sequence}), 1))")
        await writer.conn.execute("ANALYZE")
    finally:
        await close_writer(writer)


def _chunks(jobs: list[TenantJob], n: int) -> list[list[TenantJob]]:
    return [jobs[k::n] for k in range(n) if jobs[k::n]]


async def generate(url: str, tenants: int, cases: int, seed, open_share: float = 0.03, until: date | None = None,
                   span_days: float = 365, jobs: int | None = None, quiet: bool = False, unswept: int = 0) -> dict:
    """Generate into the (migrated) database at `url`, which must also be the app's database
    (`DATABASE_URL`) of this process; returns the totals and timings."""
    from core.clock import now, today
    from core.users import hash_password

    started = time.monotonic()
    until = until or today()
    anchor = now() if until == today() else _at_local(until, 18)
    planned = await setup_tenants(url, tenants, cases)
    await reserve_blocks(url, planned)
    setup_seconds = time.monotonic() - started
    password_hash = hash_password(PASSWORD)
    if url.startswith("sqlite"):
        jobs = 1
    jobs = max(1, min(jobs or min(2, os.cpu_count() or 1), len(planned)))
    args = (seed, until, anchor, span_days, open_share, password_hash, quiet, unswept)
    if jobs == 1:
        results = [await write_shard_async(url, planned, *args)]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        loop = asyncio.get_running_loop()
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = await asyncio.gather(*[loop.run_in_executor(pool, write_shard, url, chunk, *args)
                                             for chunk in _chunks(planned, jobs)])
    totals: dict[str, int] = {}
    for result in results:
        for key, value in result.items():
            totals[key] = totals.get(key, 0) + value
    await finish(url)
    totals = {k: (round(v, 1) if isinstance(v, float) else v) for k, v in totals.items()}
    totals.update(tenants=len(planned), seconds=round(time.monotonic() - started, 1),
                  setup_seconds=round(setup_seconds, 1), jobs=jobs)
    return totals


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, required=True)
    parser.add_argument("--cases", type=int, required=True, help="cases per tenant")
    parser.add_argument("--seed", default="1")
    parser.add_argument("--database-url", help="default: DATABASE_URL")
    parser.add_argument("--open", type=float, default=0.03, dest="open_share",
                        help="share of cases kept open on purpose (0.03; the sweep benchmark uses 1)")
    parser.add_argument("--until", type=date.fromisoformat, help="the present of the data (default: today)")
    parser.add_argument("--days", type=float, default=365, help="cases are submitted over this many days")
    parser.add_argument("--jobs", type=int, help="writer processes (PostgreSQL; default: up to 2)")
    parser.add_argument("--unswept-days", type=int, default=0,
                        help="leave the deadline sweep's effects of the last N working days undone")
    args = parser.parse_args(argv)
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ["QINQING_DB_OWNER"] = "1"
    sys.path.insert(0, str(ROOT))
    from core.config import ConfigError, get_settings

    try:
        url = get_settings().database_url
    except ConfigError as exc:
        raise SystemExit(f"error: {exc}")
    print(f"generating {args.tenants} tenants × {args.cases} cases into {re.sub(r'//[^@/]*@', '//', url)}", flush=True)
    totals = asyncio.run(generate(url, args.tenants, args.cases, args.seed, args.open_share, args.until, args.days,
                                  args.jobs, unswept=args.unswept_days))
    print(json.dumps(totals, ensure_ascii=False))


if __name__ == "__main__":
    main()
