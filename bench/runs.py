"""Consecutive full runs: each whole `bench/run` appends its ratio targets to `bench/runs.jsonl`,
and RESULTS.md shows the last ones side by side with the unbroken streak (issue 23).

The streak counts the ratio targets (console views, case page, submissions, sweep): those are
what must hold run after run.  Whether every target was met, the absolute ones (figures, case page
p95, clustering, memory) with them, is shown beside it."""

from __future__ import annotations

import json
from pathlib import Path

from bench.report import CASE_PAGE_SHARE, CONSOLE_P95_OF_SQL, SUBMIT_OF_SQL, SWEEP_OF_SQL, _fmt, targets, verdict

RUNS_FILE = "runs.jsonl"  # one line per full run, oldest first: the margins over several runs
RUN_COLUMNS = [("console", "console p95 / SQL", "×"), ("console_filtered", "filtered / SQL", "×"),
               ("console_search", "search / SQL", "×"), ("case_page_share", "case page / hello", "%"),
               ("submit", "submissions / SQL", "%"), ("sweep", "sweep / SQL", "×")]


def record(results: dict, path: Path) -> list[dict]:
    """Append this full run's ratio targets to the history; return the whole history."""
    rows = {row["key"]: row for row in targets(results)}
    entry = {"date": results["meta"]["date"], "code": results["meta"].get("code"), "load": results["meta"].get("load"),
             "ratios": {key: rows[key]["value"] for key, _, _ in RUN_COLUMNS if key in rows},
             "ratios_met": all(key in rows and rows[key]["met"] is not False for key, _, _ in RUN_COLUMNS),
             "met": all(row["met"] is not False for row in rows.values())}
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return read(path)


def read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def ratios_met(run: dict) -> bool:
    """Whether a recorded run met every ratio target (worked out from its ratios for runs recorded
    before the flag was)."""
    if "ratios_met" in run:
        return run["ratios_met"]
    r = run["ratios"]
    views = all(r.get(key) is not None and r[key] <= CONSOLE_P95_OF_SQL
                for key in ("console", "console_filtered", "console_search"))
    return (views and (r.get("case_page_share") or 0) >= CASE_PAGE_SHARE and (r.get("submit") or 0) >= SUBMIT_OF_SQL
            and r.get("sweep") is not None and r["sweep"] <= SWEEP_OF_SQL)


def lines(runs: list[dict]) -> list[str]:
    """The last full runs side by side, with how many in a row (the newest last) met every ratio target."""
    if not runs:
        return []
    in_a_row = 0
    for run in reversed(runs):
        if not ratios_met(run):
            break
        in_a_row += 1
    shown = runs[-6:]
    lines = ["", "## Consecutive full runs", "",
             f"Each full run appends its ratios to `bench/{RUNS_FILE}`. Targets: console views' p95 ≤ "
             f"{CONSOLE_P95_OF_SQL:g}× SQL, case page ≥ {CASE_PAGE_SHARE:.0%} of hello, submissions ≥ "
             f"{SUBMIT_OF_SQL:.0%} of raw SQL, sweep ≤ {SWEEP_OF_SQL:g}× SQL. The newest {in_a_row} "
             f"run{'s' if in_a_row != 1 else ''} in a row met every one of them. \"All met\" adds the absolute "
             "targets of the table above (figures, case page p95, clustering, memory), which move with the "
             "machine's speed.", "",
             "| run | code | load | " + " | ".join(label for _, label, _ in RUN_COLUMNS) + " | ratios met | all met |",
             "| --- | --- | --- | " + " | ".join("---:" for _ in RUN_COLUMNS) + " | --- | --- |"]
    for run in shown:
        cells = []
        for key, _, unit in RUN_COLUMNS:
            value = run["ratios"].get(key)
            cells.append("—" if value is None else _fmt(value * 100, "%") if unit == "%" else _fmt(value, "×"))
        lines.append(f"| {run['date']} | {run.get('code') or '—'} | {run.get('load') or '—'} | " + " | ".join(cells)
                     + f" | {verdict(ratios_met(run))} | {verdict(run['met'])} |")
    return lines
