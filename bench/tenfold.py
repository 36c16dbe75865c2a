"""`bench/run --tenfold` (issue 23): ten times the data — 3,000,000 cases over 300 tenants.

The same measurements as a full run's largest size (pages, submissions, the auto_explain pass), at
300 × 10,000 cases, without the soak, the sweep and the clustering (they do not grow with the
tenants).  Its results go to `results-tenfold.json` and a section of RESULTS.md of its own, beside
the 1M-case row of the last full run (`results.json`), so a full run keeps the section and this run
leaves the full run's tables alone.  The section says whether the plans call for partitioning the
events table: a hot path that reads it whole, or a p95 that grows with the table rather than with
the tenant.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from bench import report
from bench.report import LABELS, LARGE_ROWS, _fmt, verdict

SIZE = (300, 10_000)
TENFOLD_JSON = "results-tenfold.json"
BEGIN, END = "<!-- tenfold section: bench/run --tenfold -->", "<!-- end of the tenfold section -->"
GROWTH = 1.5  # a p95 that grows more than this from 1M to 3M cases grows with the table
PARTITIONED = "case_event"  # the table partitioning would split (by hash of tenant)


async def run(runner, args, results: dict, out_dir: Path) -> int:
    """Measure 300 × 10,000 cases with the runner's own `measure_size`; write the section."""
    profile = dict(runner.PROFILES["full"], sizes=[SIZE], soak=0)
    started = time.monotonic()
    results["meta"]["profile"] = "tenfold"
    results["sizes"].append(await runner.measure_size(args, profile, *SIZE, results))
    results["meta"]["seconds"] = time.monotonic() - started
    (out_dir / TENFOLD_JSON).write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str))
    write_section(results, out_dir / "RESULTS.md")
    for row in targets(results, report.read_json(out_dir / "results.json")):
        runner.log(f"{verdict(row['met']):<5} {row['target']}: {row['measured']} (ratio {row['ratio']})")
    size = results["sizes"][-1]
    errors = [f"{key}: {side} {summary['errors']} errors" for key, entry in
              [("submit", size["submit"]), *size["endpoints"].items()]
              for side, summary in entry.items() if summary["errors"]]
    for line in errors:
        runner.log(f"ERROR {line}")
    return 1 if errors else 0


def targets(results: dict, before: dict | None = None) -> list[dict]:
    """The full run's targets that apply at one size (not the sweep, clustering or soak); the
    figures' growth against the full run's smallest size when there is one."""
    if before and before.get("sizes"):
        results = dict(results, sizes=[before["sizes"][0], results["sizes"][-1]])
    return [row for row in report.targets(results) if row["key"] not in ("sweep", "clustering", "rss")]


def partitioning(results: dict, before: dict | None) -> str:
    """What the plans and the growth from 1M cases say about partitioning the events table: only
    the paths whose plans read it count."""
    explains = results.get("explain") or {}
    if not explains:
        return "Not judged: the run took no plans (`--no-explain`, or no auto_explain)."
    reading = {path for path, found in explains.items() if PARTITIONED in found.get("tables", [])}
    scans = sorted(LABELS.get(path, path) for path, found in explains.items()
                   if found["seq_scans"].get(PARTITIONED, {}).get("rows", 0) > LARGE_ROWS)
    grown, flat = [], []
    if before:
        top, base = results["sizes"][-1], before["sizes"][-1]
        for key in sorted(reading):
            entry = top["submit"] if key == "submit" else top["endpoints"].get(key)
            old_entry = base["submit"] if key == "submit" else base["endpoints"].get(key)
            old, new = (old_entry or {}).get("app", {}).get("p95"), (entry or {}).get("app", {}).get("p95")
            if old and new:
                (grown if new / old > GROWTH else flat).append(f"{LABELS.get(key, key)} {_fmt(new / old, '×')}")
    if scans or grown:
        why = "; ".join(filter(None, [f"reads `{PARTITIONED}` whole: {'; '.join(scans)}" if scans else "",
                                      f"p95 grew more than {GROWTH:g}× from 1M: {'; '.join(grown)}" if grown else ""]))
        return (f"The plans call for partitioning `{PARTITIONED}` ({why}): declarative partitions by hash of "
                f"`tenant_id`, so each tenant's reads touch one partition.")
    return (f"The plans do not call for partitioning at this size. The paths that read `{PARTITIONED}` "
            f"({'; '.join(LABELS.get(k, k) for k in sorted(reading)) or 'none'}) read it by index, never whole, "
            f"and their p95 against 1M cases: {'; '.join(flat) or '—'}. Every read starts from an index that "
            f"leads with the tenant (or the case), so its cost follows the tenant's rows, not the table's. "
            f"Partitioning by hash of `tenant_id` remains the plan for a table larger than memory (vacuum and "
            f"index rebuilds part by part), which the 30M paragraph of the README covers.")


def lines(results: dict, before: dict | None) -> list[str]:
    meta, top = results["meta"], results["sizes"][-1]
    base = before["sizes"][-1] if before else None
    out = [BEGIN, "", f"## Ten times the data: {top['label']} (`bench/run --tenfold`)", "",
           f"- date: {meta['date']}; run time {meta['seconds']:.0f} s; code: {meta.get('code', 'unknown')}; "
           f"load average at the start: {meta.get('load', '—')}",
           f"- the same server, driver and baselines as above; no soak, sweep or clustering (they do not grow "
           f"with the tenants). Beside it: {base['label'] + ' from the full run above' if base else 'no full run'}; "
           f"the figures' growth is against that run's smallest size.",
           "", "| target (at 3M) | measured | baseline | ratio | met |", "| --- | --- | --- | --- | --- |"]
    out += [f"| {r['target']} | {r['measured']} | {r['baseline']} | {r['ratio']} | {verdict(r['met'])} |"
            for r in targets(results, before)]
    out += ["", "| endpoint | data | p50 ms | p95 ms | p99 ms | req/s | SQL p95 ms | p95 app/SQL |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name in ["hello", *top["endpoints"], "submit"]:
        for size in filter(None, [base, top]):
            entry = size["hello"] if name == "hello" else size["submit"] if name == "submit" else \
                size["endpoints"].get(name)
            if entry is None:
                continue
            app, sql = (entry, None) if name == "hello" else (entry["app"], entry["sql"])
            ratio = app["p95"] / sql["p95"] if sql and sql["p95"] and app["p95"] else None
            out.append(f"| {LABELS.get(name, name)} | {size['label']} | {_fmt(app['p50'])} | {_fmt(app['p95'])} | "
                       f"{_fmt(app['p99'])} | {_fmt(app['rps'])} | {_fmt(sql['p95']) if sql else '—'} | "
                       f"{_fmt(ratio, '×')} |")
    out += ["", "| data | events | database GB | largest tables (GB, with indexes) | generate s |",
            "| --- | ---: | ---: | --- | ---: |"]
    for size in filter(None, [base, top]):
        data, gen = size.get("data") or {}, size.get("generate") or {}
        largest = ", ".join(f"{name} {_fmt(value / 1e9)}" for name, value in (data.get("tables") or {}).items())
        out.append(f"| {size['label']} | {_fmt(data.get('events'))} | "
                   f"{_fmt(data['db_bytes'] / 1e9) if data.get('db_bytes') else '—'} | {largest or '—'} | "
                   f"{'reused' if gen.get('reused') else _fmt(gen.get('wall_seconds') or gen.get('seconds'))} |")
    explains = results.get("explain") or {}
    if explains:
        out += ["", "| path at 3M | statements | sequential scans of large tables | slowest statement |",
                "| --- | ---: | --- | ---: |"]
        for path, found in explains.items():
            large = [f"{t} ({v['rows']:,} rows)" for t, v in sorted(found["seq_scans"].items()) if v["rows"] > LARGE_ROWS]
            out.append(f"| {LABELS.get(path, path)} | {found['statements']:g} | {', '.join(large) or 'none'} | "
                       f"{_fmt(found['slowest_ms'], ' ms')} |")
    out += ["", f"**Partitioning.** {partitioning(results, before)}", "", END]
    return out


def section(path: Path) -> list[str]:
    """The section from the results beside `path` (for a full run's RESULTS.md to keep)."""
    found = report.read_json(path.parent / TENFOLD_JSON)
    if not found or not found.get("sizes"):
        return []
    try:
        return ["", *lines(found, report.read_json(path.parent / "results.json"))]
    except (KeyError, TypeError, ZeroDivisionError):
        return []


def write_section(results: dict, path: Path) -> None:
    report.put_section(path, BEGIN, END, "\n".join(lines(results, report.read_json(path.parent / "results.json"))))
