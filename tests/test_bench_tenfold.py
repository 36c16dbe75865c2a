"""`bench/run --tenfold` (issue 23, item 6): the 3M-case run has a section of RESULTS.md of its own
that a full run keeps, and says whether the plans call for partitioning the events table."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from bench import report, tenfold

BENCH = Path(__file__).parents[1] / "bench"
FULL = json.loads((BENCH / "results.json").read_text(encoding="utf-8"))


def _tenfold(grow: float = 1.1, scan_events: bool = False) -> dict:
    """The committed full run's largest size, relabelled as 3M cases, its p95s grown by `grow`."""
    results = copy.deepcopy(FULL)
    top = results["sizes"][-1]
    top.update(label="3M cases (300 × 10,000)", tenants=300)
    for entry in top["endpoints"].values():
        entry["app"]["p95"] *= grow
    results["sizes"] = [top]
    results["meta"].update(profile="tenfold", seconds=1200.0)
    results["explain"] = {
        "case_page": {"statements": 5, "checks": 0, "slowest_ms": 3.0, "plans": [], "tables": ["case_event", "tenant"],
                      "seq_scans": {"tenant": {"scans": 1, "rows": 300},
                                    **({"case_event": {"scans": 1, "rows": 28_000_000}} if scan_events else {})}},
        "figures": {"statements": 6, "checks": 0, "slowest_ms": 0.1, "plans": [], "tables": ["case_tally"],
                    "seq_scans": {}}}
    return results


def _full_run_page(path: Path) -> None:
    report.write_markdown(FULL, path, None, [], tenfold.section(path))


def test_the_tenfold_section_sits_beside_the_full_run_and_survives_the_next_one(tmp_path):
    (tmp_path / "results.json").write_text(json.dumps(FULL), encoding="utf-8")
    page = tmp_path / "RESULTS.md"
    _full_run_page(page)
    assert tenfold.BEGIN not in page.read_text(encoding="utf-8")  # no tenfold run yet: no section
    results = _tenfold()
    (tmp_path / tenfold.TENFOLD_JSON).write_text(json.dumps(results), encoding="utf-8")
    tenfold.write_section(results, page)
    text = page.read_text(encoding="utf-8")
    assert text.count(tenfold.BEGIN) == 1 and "## Latency against data size" in text  # the full run's tables stay
    section = text.split(tenfold.BEGIN, 1)[1]
    assert "| Case page with its timeline | 1M cases (100 × 10,000) |" in section  # beside the 1M row
    assert "| Case page with its timeline | 3M cases (300 × 10,000) |" in section
    assert "do not call for partitioning" in section
    _full_run_page(page)  # the next full run rewrites the file and keeps the section
    again = page.read_text(encoding="utf-8")
    assert again.count(tenfold.BEGIN) == 1 and again.index(tenfold.BEGIN) < again.index("## Notes")


def test_partitioning_is_called_for_by_a_whole_read_of_the_events_or_by_growth():
    assert "do not call" in tenfold.partitioning(_tenfold(), FULL)
    scanned = tenfold.partitioning(_tenfold(scan_events=True), FULL)
    assert "call for partitioning" in scanned and "Case page with its timeline" in scanned
    grown = tenfold.partitioning(_tenfold(grow=1.6), FULL)
    assert "call for partitioning" in grown and "grew more than 1.5×" in grown


def test_only_the_paths_that_read_the_events_count_towards_partitioning():
    results = _tenfold()
    results["sizes"][-1]["endpoints"]["figures"]["app"]["p95"] *= 3  # the figures read the tally, not the events
    verdict = tenfold.partitioning(results, FULL)
    assert "do not call" in verdict and "Case page with its timeline" in verdict and "figures" not in verdict
    del results["explain"]
    assert tenfold.partitioning(results, FULL).startswith("Not judged")


def test_the_tenfold_targets_leave_out_what_it_does_not_measure():
    rows = {row["key"]: row for row in tenfold.targets(_tenfold(), FULL)}
    assert {"console", "case_page_share", "submit"} <= set(rows)
    assert not set(rows) & {"sweep", "clustering", "rss"}
    assert "at 10k cases" in rows["figures"]["target"]  # its growth is against the full run's smallest size
