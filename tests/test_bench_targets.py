"""The benchmark's targets are ratios to the same run's baselines, and full runs are kept in a row
so that "three consecutive runs" can be read off RESULTS.md (issue 23)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from bench import report, runs

RESULTS = json.loads((Path(__file__).parents[1] / "bench" / "results.json").read_text(encoding="utf-8"))


def _hello(top: dict) -> dict:
    """The hello the case page's share is taken against: its own, measured taking turns, where the run has one."""
    return top["endpoints"]["case_page"].get("hello") or top["hello"]


def _passing() -> dict:
    """The committed full run, with every ratio moved just inside its target (and the figures'
    absolute p95s inside theirs, which a slow hour can miss)."""
    results = copy.deepcopy(RESULTS)
    top = results["sizes"][-1]
    for key in ("figures", "figures_rollup"):
        for size in results["sizes"]:
            size["endpoints"][key]["app"]["p95"] = 50.0
    for key in ("console", "console_filtered", "console_search"):
        top["endpoints"][key]["app"]["p95"] = top["endpoints"][key]["sql"]["p95"] * 1.9
    top["endpoints"]["case_page"]["app"]["rps"] = _hello(top)["rps"] * 0.41
    top["submit"]["app"]["rps"] = top["submit"]["sql"]["rps"] * 0.31
    results["sweep"]["first"]["seconds"] = results["sweep"]["sql_seconds"] * 14
    return results


def by_key(results: dict) -> dict:
    return {row["key"]: row for row in report.targets(results)}


def test_each_ratio_target_is_judged_against_the_same_runs_baseline():
    rows = by_key(_passing())
    assert all(rows[k]["met"] for k in ("console", "console_filtered", "console_search", "case_page_share",
                                        "submit", "sweep"))
    failing = _passing()
    top = failing["sizes"][-1]
    top["endpoints"]["console"]["app"]["p95"] = top["endpoints"]["console"]["sql"]["p95"] * 2.1
    top["endpoints"]["case_page"]["app"]["rps"] = _hello(top)["rps"] * 0.39
    top["submit"]["app"]["rps"] = top["submit"]["sql"]["rps"] * 0.29
    failing["sweep"]["first"]["seconds"] = failing["sweep"]["sql_seconds"] * 16
    rows = by_key(failing)
    assert [k for k in ("console", "case_page_share", "submit", "sweep") if rows[k]["met"]] == []
    assert rows["console_filtered"]["met"]  # one view failing does not fail the others


def test_consecutive_runs_count_only_the_newest_unbroken_streak(tmp_path):
    history = tmp_path / runs.RUNS_FILE
    short = _passing()  # every ratio met but submissions, at 29% of raw SQL
    short["sizes"][-1]["submit"]["app"]["rps"] = short["sizes"][-1]["submit"]["sql"]["rps"] * 0.29
    runs.record(_passing(), history)
    runs.record(short, history)
    runs.record(_passing(), history)
    kept = runs.record(_passing(), history)
    assert [runs.ratios_met(run) for run in kept] == [True, False, True, True]
    text = "\n".join(runs.lines(kept))
    assert "The newest 2 runs in a row met every one of them." in text
    assert text.count("| **no** |") >= 1


def test_the_streak_counts_the_ratio_targets_and_shows_the_absolute_ones_beside(tmp_path):
    history = tmp_path / runs.RUNS_FILE
    slow = _passing()  # every ratio met, but the figures over their 100 ms on a slow hour
    slow["sizes"][-1]["endpoints"]["figures"]["app"]["p95"] = 140.0
    kept = [runs.record(_passing(), history), runs.record(slow, history)][-1]
    assert [runs.ratios_met(run) for run in kept] == [True, True] and [run["met"] for run in kept] == [True, False]
    text = "\n".join(runs.lines(kept))
    assert "The newest 2 runs in a row met every one of them." in text
    assert text.splitlines()[-1].endswith("| yes | **no** |")
    old = {key: value for key, value in kept[0].items() if key != "ratios_met"}  # recorded before the flag
    assert runs.ratios_met(old)
    old["ratios"] = dict(old["ratios"], submit=0.29)
    assert not runs.ratios_met(old)


async def test_a_page_and_its_baseline_take_turns():
    """A drift in the machine's speed meets a page and its baseline alike: they alternate."""
    from bench.driver import measure_in_turns

    order: list[str] = []

    def call(name):
        async def one(i: int) -> int:
            order.append(name)
            return 200
        return one

    page, sql = await measure_in_turns([("page", call("page")), ("sql", call("sql"))], concurrency=1, warmup=2,
                                       count=9)
    assert len(page.latencies) == len(sql.latencies) == 9
    runs = [name for i, name in enumerate(order) if i == 0 or order[i - 1] != name]
    assert runs == ["page", "sql"] * 3  # three turns each, the warm-up inside each one's first
    assert order.count("page") == 2 + 9


def test_the_case_page_share_is_taken_against_the_hello_beside_it():
    results = _passing()
    case_page = results["sizes"][-1]["endpoints"]["case_page"]
    case_page["hello"] = dict(case_page["app"], rps=case_page["app"]["rps"] * 2)  # hello twice as fast beside it
    assert abs(by_key(results)["case_page_share"]["value"] - 0.5) < 1e-9


def test_the_replicas_share_counts_both_servers_in_the_same_phase():
    """The figures are kept between changes, so a calibration without load counts nothing: the share
    is the replica's transactions (less its lag checks) beside the primary's own for the figures
    in the same phase — its transactions less the submissions'."""
    from bench.replica import replica_share

    endpoints = {"figures": {"seconds": 10.0}, "figures_rollup": {"seconds": 5.0}}
    out = {"with_replica": {"xacts_per_submission": 3.0, "endpoints": endpoints, "submit": {"n": 1000},
                            "xacts": {"primary": 3300, "replica": 930}}}
    share = replica_share(out, workers=2)
    assert share["lag_checks_at_most"] == 30 and share["primary_figures_xacts"] == 300
    assert share["share"] == 900 / 1200
    out["with_replica"]["xacts"]["primary"] = 3000  # every figures transaction on the replica
    assert replica_share(out, workers=2)["share"] == 1.0


def test_a_full_run_without_the_replica_keeps_the_last_replica_section_in_place(tmp_path):
    """Reads on a replica are measured only by `bench/run --replica`; a later full run made without
    it carries them over, saying when and by what they were measured, rather than dropping them."""
    assert "replica" in RESULTS and "measured" in RESULTS["replica"], "the committed run keeps the replica's section"
    earlier = copy.deepcopy(RESULTS)
    earlier["replica"].pop("measured")
    earlier["meta"].update(date="2026-01-02 03:04 UTC", code="abc1234", command="bench/run --replica")
    later = copy.deepcopy(RESULTS)
    later.pop("replica")
    assert report.kept_replica(later) is None
    later["replica"] = report.kept_replica(earlier)
    assert report.kept_replica({"meta": later["meta"], "replica": later["replica"]})["measured"]["code"] == "abc1234"
    path = tmp_path / "RESULTS.md"
    report.write_markdown(later, path, None, [])
    text = path.read_text(encoding="utf-8")
    assert "## Reads on a replica" in text
    assert "Measured by `bench/run --replica` on 2026-01-02 03:04 UTC (code abc1234)" in text
    fresh = copy.deepcopy(earlier)  # measured by this very run: no such line
    report.write_markdown(fresh, path, None, [])
    assert "## Reads on a replica" in path.read_text(encoding="utf-8")
    assert "Measured by" not in path.read_text(encoding="utf-8")
