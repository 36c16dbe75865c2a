"""The embedded default's benchmark (`bench/run --engine sqlite`): the runner's sampling and the
raw SQL baselines on a generated SQLite file answer what the pages answer, a raw submission keeps
the record verifiable, and RESULTS.md's SQLite section names when to move to PostgreSQL.  A tiny
file (one tenant, 40 cases), no measurement."""

from __future__ import annotations

import asyncio
import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import baselines, report_sqlite

ROOT = Path(__file__).resolve().parent.parent
CASES = 40


def _runner():
    """bench/run (a script without .py) as a module."""
    loader = importlib.machinery.SourceFileLoader("bench_run", str(ROOT / "bench" / "run"))
    spec = importlib.util.spec_from_loader("bench_run", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench_file(tmp_path_factory):
    """A migrated SQLite file with one generated tenant, made by the real commands."""
    work = tmp_path_factory.mktemp("bench-sqlite")
    url = f"sqlite:///{work / 'bench.db'}"
    env = {**os.environ, "DATABASE_URL": url, "QINQING_VAR_DIR": str(work / "var"), "BROKER_URL": ""}
    for args in (["-m", "cli", "migrate"],
                 ["-m", "bench.generate", "--tenants", "1", "--cases", str(CASES), "--seed", "3"]):
        done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return url, work / "bench.db", env


def test_statements_are_read_as_sqlite_takes_them():
    sql, args = baselines.sqlite_sql('SELECT 1 FROM e WHERE e.t = $1 AND e."case" = ANY($2::int[]) AND x = $10',
                                     (7, [1, 2], "a"))
    assert sql == 'SELECT 1 FROM e WHERE e.t = ?1 AND e."case" IN (SELECT value FROM json_each(?2)) AND x = ?10'
    assert args == (7, "[1, 2]", "a")


async def test_the_runner_samples_the_file_and_every_baseline_answers(bench_file):
    url, path, _ = bench_file
    run = _runner()
    slug, _, ctx, submitters = await run.sample(url, "3")
    assert slug == "bench001" and len(ctx.case_ids) == CASES and len(ctx.numbers) == CASES
    assert submitters[0]["slug"] == "bench001" and submitters[0]["token"].startswith("qq_")
    pages = run.sqlite_endpoints(slug, ctx)
    assert pages["console_number"][0](0) == f"/t/bench001/cases?q={ctx.numbers[0]}"
    pool = await baselines.SqlitePool(str(path), 3).open()
    try:
        for key, query in run.sqlite_baselines(ctx).items():
            async with pool.acquire() as conn:
                assert await query(conn, 0) == 200, key
        async with pool.acquire() as conn:
            # a search by number finds that case (by its number, not by some text that contains it)
            number = ctx.numbers[0]
            found = await conn.fetch(baselines.LIST.format(where=baselines.NUMBER_WHERE, order="c.id DESC"),
                                     ctx.tenant_id, *baselines.number_args(number))
            assert [r["number"] for r in found] == [number]
            # the console's last step of each case: the event of the highest seq, as DISTINCT ON gives
            events = await conn.fetch('SELECT "case", seq, action FROM case_event WHERE tenant_id = $1',
                                      ctx.tenant_id)
            last = {}
            for e in events:
                if e["seq"] > last.get(e["case"], (0, ""))[0]:
                    last[e["case"]] = (e["seq"], e["action"])
            feedback = await conn.fetch(baselines.FEEDBACK_SQLITE, ctx.tenant_id, ctx.case_ids)
            assert {r["case"]: (r["seq"], r["action"]) for r in feedback} == {i: last[i] for i in ctx.case_ids}
    finally:
        await pool.close()


async def test_raw_submissions_at_once_keep_the_record_verifiable(bench_file):
    url, path, env = bench_file
    _, _, ctx, submitters = await _runner().sample(url, "3")
    pool = await baselines.SqlitePool(str(path), 3).open()
    try:
        async def one(i: int) -> int:
            async with pool.acquire() as conn:
                return await baselines.submit(conn, submitters[0], i)

        assert await asyncio.gather(*(one(i) for i in range(6))) == [200] * 6
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM case_file WHERE tenant_id = $1",
                                       ctx.tenant_id) == CASES + 6
    finally:
        await pool.close()
    done = subprocess.run([sys.executable, "-m", "cli", "audit", "verify"], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr


# -- RESULTS.md's section -----------------------------------------------------------------------------

def _page(p95: float, rps: float) -> dict:
    return {"app": {"p50": p95 / 2, "p95": p95, "p99": p95, "rps": rps, "n": 100, "errors": 0},
            "sql": {"p50": 1.0, "p95": 2.0, "p99": 2.0, "rps": 900.0, "n": 100, "errors": 0}}


def _size(cases: int, search_rps: float, errors: int = 0) -> dict:
    every = {"p50": 500.0, "p95": 900.0, "p99": 1000.0, "n": 600}
    return {"label": f"{cases // 1000}k cases (1 tenant)", "cases": cases, "load_before": "3.0, 3.0, 3.0",
            "load": "3.1, 3.0, 3.0", "load_after": "3.2, 3.0, 3.0", "file_mb": 40.0, "rss_mb": [150.0],
            "generate": {"events": cases * 9, "seconds": 10.0}, "startup_jobs": {"case_deadlines": 1.5},
            "startup_seconds": 2.0,
            "hello": {"p50": 5.0, "p95": 9.0, "p99": 12.0, "rps": 1000.0, "n": 100, "errors": 0},
            "endpoints": {"console": _page(60, 300), "console_search": _page(90, search_rps),
                          "console_number": _page(70, search_rps), "case_page": _page(40, 400)},
            "submit": {"app": {"p50": 9.0, "p95": 20.0, "p99": 30.0, "rps": 120.0, "n": 900, "errors": 0,
                               "seconds": 20.0},
                       "sql": {"p50": 1.0, "p95": 2.0, "p99": 3.0, "rps": 300.0, "n": 900, "errors": 0}},
            "hello_load": {"p95": 80.0, "rps": 900.0},
            "mixed": {"clients": 50, "cases": 1000, "requests": 3000, "seconds": 40.0, "rps": 75.0,
                      "cases_per_second": 25.0, "latency_ms": {"all": every}, "unexpected": errors,
                      "server_errors": 0, "no_answer": 0, "five_xx_seen": 0, "retries": 0, "logged_errors": 0}}


def _results(*sizes) -> dict:
    return {"meta": {"command": "bench/run --engine sqlite", "date": "2026-12-06 18:00 UTC", "seconds": 600,
                     "code": "abc", "sqlite": "3.40.1", "nproc": 2, "ram_gb": 23.5, "concurrency": 8, "warmup": 50,
                     "requests": 1000, "max_seconds": 30, "submit_seconds": 20, "load_clients": 50,
                     "load_cases": 1000}, "sizes": list(sizes)}


PG = {"sizes": [{"hello": {"rps": 1200.0}, "submit": {"app": {"rps": 300.0}},
                 "endpoints": {"console": {"app": {"rps": 300.0}}, "console_search": {"app": {"rps": 108.0}},
                               "case_page": {"app": {"rps": 460.0}}}}]}


def test_the_move_is_due_at_the_first_size_where_a_page_slows_with_the_case_count():
    # search at 10% of hello at 10k cases, at 4% at 100k: its cost grew 2.5× against the same hello
    text = report_sqlite.move_point(_results(_size(10_000, 100.0), _size(100_000, 40.0)))
    assert "before it reaches 100,000 cases" in text
    assert "between 10k cases (1 tenant) and 100k cases (1 tenant)" in text
    assert "Console search by text" in text
    held = report_sqlite.move_point(_results(_size(10_000, 100.0), _size(100_000, 60.0)))
    assert held.startswith("Up to the largest size measured (100k cases (1 tenant))")


def test_an_error_under_the_mixed_load_makes_the_move_due_at_once():
    text = report_sqlite.move_point(_results(_size(10_000, 100.0, errors=3), _size(100_000, 100.0)))
    assert "before it reaches 10,000 cases" in text and "3 errors" in text


def test_the_section_replaces_the_last_one_before_the_notes(tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text("# Benchmark results (full)\n\nPostgreSQL tables\n\n## Notes\n\n- a note\n", encoding="utf-8")
    (tmp_path / "results.json").write_text(json.dumps(PG), encoding="utf-8")  # the PostgreSQL run's, beside
    report_sqlite.write_sqlite_section(_results(_size(10_000, 100.0)), path)
    report_sqlite.write_sqlite_section(_results(_size(10_000, 100.0), _size(100_000, 100.0)), path)
    text = path.read_text(encoding="utf-8")
    assert text.count(report_sqlite.SQLITE_BEGIN) == 1 and text.count("## The embedded default") == 1
    assert text.index("PostgreSQL tables") < text.index(report_sqlite.SQLITE_BEGIN) < text.index("## Notes")
    assert "| Console search by case number | 100k cases (1 tenant) | 35.0 | 70 |" in text
    assert "**taken on a loaded 2-core machine**" in text
    # search by text: 10% of hello here, PostgreSQL's 9% (108 of 1,200 req/s) beside it
    assert "| Console search by text (排水): p95 ≤ 150 ms | p95 90 ms (SQL 2.00 ms) | yes | 10.0% | 9.00% | yes |" in text
