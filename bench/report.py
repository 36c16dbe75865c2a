"""Writing the results: `RESULTS.md` (the targets table, every endpoint at every size, generation
times, the slow queries' plans) and a PNG of p95 latency against data size (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

LABELS = {
    "hello": "Hello (`/healthz`, same server)",
    "console": "Dispatch console, first page",
    "console_filtered": "Dispatch console, filtered",
    "console_search": "Dispatch console, Chinese search",
    "figures": "Big-screen figures, one tenant",
    "figures_rollup": "Big-screen figures, district roll-up",
    "case_page": "Case page with its timeline",
    "submit": "Case submission (API POST)",
    "console_number": "Dispatch console, search by case number",
}


def _fmt(value, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        text = f"{value:,.1f}" if value >= 10 else f"{value:,.2f}"
    else:
        text = f"{value:,}"
    return text + unit


def verdict(met: bool | None) -> str:
    return "n/a (scaled down)" if met is None else "yes" if met else "**no**"


CONSOLE_P95_OF_SQL = 2.0  # every console view's p95 ≤ 2× its SQL p95
CASE_PAGE_SHARE = 0.40  # the case page's throughput ≥ 40% of hello's
SUBMIT_OF_SQL = 0.30  # submissions ≥ 30% of the raw-SQL submissions (issue 23: ratios hold when speed moves)
SWEEP_OF_SQL = 15.0  # the overdue sweep ≤ 15× its SQL baseline


def targets(results: dict) -> list[dict]:
    """Each target, judged at the largest size measured; `key` names it in the run history."""
    sizes = results["sizes"]
    top, first = sizes[-1], sizes[0]
    ep, ep0, rows = top["endpoints"], first["endpoints"], []

    def p95_of_sql(name: str):
        app, sql = ep[name]["app"], ep[name]["sql"]
        ratio = app["p95"] / sql["p95"] if app["p95"] and sql["p95"] else None
        rows.append({"key": name, "target": f"{LABELS[name]}: p95 ≤ {CONSOLE_P95_OF_SQL:g}× its SQL p95",
                     "measured": f"p95 {_fmt(app['p95'], ' ms')}", "baseline": f"SQL p95 {_fmt(sql['p95'], ' ms')}",
                     "ratio": _fmt(ratio, "×"), "value": ratio,
                     "met": ratio is not None and ratio <= CONSOLE_P95_OF_SQL})

    def latency(name: str, limit: float, growth: float | None = None):
        app, sql = ep[name]["app"], ep[name]["sql"]
        p95 = app["p95"]
        met = p95 is not None and p95 <= limit
        note = f"p95 {_fmt(p95, ' ms')}"
        if growth is not None and len(sizes) > 1:
            base = ep0[name]["app"]["p95"]
            factor = p95 / base if p95 and base else None
            note += f"; {_fmt(factor, '×')} its p95 at {first['label']}"
            met = met and factor is not None and factor <= growth
        rows.append({"key": name, "target": f"{LABELS[name]}: p95 ≤ {limit:g} ms" + (
            f", ≤ {growth:g}× at {first['label']}" if growth is not None and len(sizes) > 1 else ""),
            "measured": note, "baseline": f"SQL p95 {_fmt(sql['p95'], ' ms')}",
            "ratio": _fmt(p95 / sql["p95"] if p95 and sql["p95"] else None, "×"), "value": p95, "met": met})

    p95_of_sql("console")
    p95_of_sql("console_filtered")
    p95_of_sql("console_search")
    latency("figures", 100, 1.5)
    latency("figures_rollup", 100, 1.5)
    latency("case_page", 80)
    # hello measured taking turns with the case page, where a run did so; else the size's first hello
    case, hello = ep["case_page"]["app"], ep["case_page"].get("hello") or top["hello"]
    share = case["rps"] / hello["rps"] if hello["rps"] else None
    rows.append({"key": "case_page_share", "target": f"Case page throughput ≥ {CASE_PAGE_SHARE:.0%} of hello's",
                 "measured": f"{_fmt(case['rps'])} req/s", "baseline": f"hello {_fmt(hello['rps'])} req/s"
                 + (" (taking turns with it)" if "hello" in ep["case_page"] else ""),
                 "ratio": _fmt(share * 100 if share else None, "%"), "value": share,
                 "met": share is not None and share >= CASE_PAGE_SHARE})
    sub = top["submit"]
    of_sql = sub["app"]["rps"] / sub["sql"]["rps"] if sub["sql"]["rps"] else None
    rows.append({"key": "submit", "target": f"Case submissions ≥ {SUBMIT_OF_SQL:.0%} of raw-SQL submissions",
                 "measured": f"{_fmt(sub['app']['rps'])}/s over {_fmt(sub['app']['seconds'], ' s')} "
                             f"(p95 {_fmt(sub['app']['p95'], ' ms')})",
                 "baseline": f"SQL {_fmt(sub['sql']['rps'])}/s", "ratio": _fmt(of_sql * 100 if of_sql else None, "%"),
                 "value": of_sql, "met": of_sql is not None and of_sql >= SUBMIT_OF_SQL})
    sweep = results.get("sweep")
    if sweep:
        times = sweep["first"]["seconds"] / sweep["sql_seconds"] if sweep["sql_seconds"] else None
        rows.append({"key": "sweep", "target": f"Overdue sweep over {sweep['open']:,} open cases ≤ {SWEEP_OF_SQL:g}× "
                                               f"its SQL baseline",
                     "measured": f"{_fmt(sweep['first']['seconds'], ' s')} (then {_fmt(sweep['second']['seconds'], ' s')} "
                                 f"when nothing is new)",
                     "baseline": f"SQL {_fmt(sweep['sql_seconds'], ' s')}", "ratio": _fmt(times, "×"), "value": times,
                     "met": times is not None and times <= SWEEP_OF_SQL if sweep["open"] >= 100_000 else None})
    cluster = results.get("clustering")
    if cluster:
        rows.append({"key": "clustering", "target": f"Clustering of {cluster['texts']:,} case texts ≤ 60 s, bounded memory",
                     "measured": f"{_fmt(cluster['seconds'], ' s')}, peak RSS {_fmt(cluster['peak_rss_mb'], ' MB')}",
                     "baseline": f"imports alone {_fmt(cluster['import_rss_mb'], ' MB')}", "ratio": "—",
                     "value": cluster["seconds"], "met": cluster["seconds"] <= 60 if cluster["texts"] >= 20_000 else None})
    rss = results.get("rss")
    if rss:
        rows.append({"key": "rss", "target": "Web process < 300 MB resident after 100,000 requests",
                     "measured": f"{_fmt(rss['max_mb'], ' MB')} (largest of {rss['workers']} workers) after "
                                 f"{rss['requests']:,} requests",
                     "baseline": f"{_fmt(rss['start_mb'], ' MB')} after start-up", "ratio": "—", "value": rss["max_mb"],
                     "met": (rss["max_mb"] < 300) if rss["requests"] >= 100_000 else None})
    return rows


def write_markdown(results: dict, path: Path, plot_name: str | None, runs: list[str] | None = None,
                   kept: list[str] | None = None) -> None:
    """RESULTS.md; `runs`: the consecutive full runs' section (bench/runs.py); `kept`: the sections
    other runs wrote (bench/tenfold.py, bench/report_sqlite.py), kept in place."""
    meta = results["meta"]
    lines = [f"# Benchmark results ({meta['profile']})", "",
             f"- command: `{meta['command']}`",
             f"- date: {meta['date']}; total run time {meta['seconds']:.0f} s; code: {meta.get('code', 'unknown')}",
             f"- machine: {meta['nproc']} cores (`nproc`), {meta['ram_gb']:.1f} GB RAM, {meta['postgres']}",
             f"- load average when the measurements started: {meta['load']} (the machine is shared; "
             f"other work running at the same time shows up in these numbers)",
             f"- server: `qinqing serve --workers {meta['web_workers']}` (uvicorn), broker {meta['broker']}; "
             f"driver: httpx over loopback from a separate process, concurrency {meta['concurrency']}, "
             f"warm-up {meta['warmup']}, then {meta['requests']} requests per endpoint (or {meta['max_seconds']} s)",
             "- hello baseline: `GET /healthz` of the same server (no database); SQL baselines: hand-written "
             "queries for the same answer, asyncpg, timed the same way (see `bench/baselines.py`); each page "
             "takes turns with its baseline (three turns each; the case page with hello too), so a drift in "
             "the machine's speed meets both alike (`bench.driver.measure_in_turns`)", "",
             "## Targets (at the largest size)", "",
             "Ratios to the same run's baselines (they move with the machine less than milliseconds do).", "",
             "| target | measured | baseline | ratio | met |", "| --- | --- | --- | --- | --- |"]
    for row in targets(results):
        lines.append(f"| {row['target']} | {row['measured']} | {row['baseline']} | {row['ratio']} | "
                     f"{verdict(row['met'])} |")
    lines += ["", "## Latency against data size", ""]
    if plot_name:
        lines += [f"![p95 latency against data size]({plot_name})", ""]
    lines += ["| endpoint | data | p50 ms | p95 ms | p99 ms | req/s | n | SQL p50 ms | SQL p95 ms | SQL req/s | "
              "p95 app/SQL |", "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    names = ["hello", *results["sizes"][0]["endpoints"], "submit"]
    for name in names:
        for size in results["sizes"]:
            entry = size["hello"] if name == "hello" else size["submit"] if name == "submit" else size["endpoints"][name]
            app, sql = (entry, None) if name == "hello" else (entry["app"], entry["sql"])
            ratio = app["p95"] / sql["p95"] if sql and sql["p95"] and app["p95"] else None
            lines.append(f"| {LABELS[name]} | {size['label']} | {_fmt(app['p50'])} | {_fmt(app['p95'])} | "
                         f"{_fmt(app['p99'])} | {_fmt(app['rps'])} | {app['n']} | "
                         f"{_fmt(sql['p50']) if sql else '—'} | {_fmt(sql['p95']) if sql else '—'} | "
                         f"{_fmt(sql['rps']) if sql else '—'} | {_fmt(ratio, '×')} |")
    lines += ["", "## Data size and generation", "",
              "| data | tenants × cases | events | database GB | largest tables (GB, with indexes) | generate s | "
              "migrate s |", "| --- | --- | ---: | ---: | --- | ---: | ---: |"]
    for size in results["sizes"]:
        gen, data = size["generate"], size.get("data") or {}
        largest = ", ".join(f"{name} {_fmt(value / 1e9)}" for name, value in (data.get("tables") or {}).items())
        generated = "reused" if gen.get("reused") else _fmt(gen.get("seconds"))
        lines.append(f"| {size['label']} | {size['tenants']} × {size['cases']:,} | "
                     f"{_fmt(data.get('events') or gen.get('events'))} | "
                     f"{_fmt(data['db_bytes'] / 1e9) if data.get('db_bytes') else '—'} | {largest or '—'} | "
                     f"{generated} | {_fmt(size.get('migrate_seconds'))} |")
    sweep = results.get("sweep")
    if sweep:
        lines += ["", "## Overdue sweep", "",
                  f"`case_deadlines` (the hourly job) on a database of {sweep['tenants']} tenants × "
                  f"{sweep['cases']:,} cases, all open ({sweep['with_deadline']:,} with a deadline); the state is "
                  f"the one the sweeps left a working day ago, so the first run has a day's reminders, overdue "
                  f"flags and escalations to make; the second finds nothing new.", "",
                  "| run | seconds | reminded | newly overdue | escalated |", "| --- | ---: | ---: | ---: | ---: |"]
        for key in ("first", "second"):
            run = sweep[key]
            lines.append(f"| {key} | {_fmt(run['seconds'])} | {run['reminded']} | {run['overdue']} | "
                         f"{run['escalated']} |")
    lines += _replica_lines(results)
    lines += runs or []
    lines += _plan_lines(results)
    lines += kept or []
    lines += ["", "## Notes", ""] + [f"- {note}" for note in results.get("notes", [])]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def kept_replica(earlier: dict | None) -> dict | None:
    """An earlier run's reads on a replica (`--replica`), for a run made without it to keep in place,
    with when and by what they were measured."""
    rep = (earlier or {}).get("replica")
    if not rep or "with_replica" not in rep:
        return None
    meta = earlier["meta"]  # type: ignore[index]
    return {**rep, "measured": rep.get("measured") or {k: meta.get(k) for k in ("date", "code", "command", "concurrency")}}


def _replica_lines(results: dict) -> list[str]:
    """`bench/run --replica` (bench/replica.py): the figures read on a replica under submissions."""
    rep = results.get("replica")
    if not rep or "with_replica" not in rep:
        return []
    share, paths, measured = rep.get("share", {}), rep["endpoints"], rep.get("measured")
    callers = (measured or results["meta"]).get("concurrency")
    lines = ["", "## Reads on a replica", "",
             f"The big screen's figures at {rep['size']} (`{paths['figures']}` and `{paths['figures_rollup']}`, "
             f"the screen's refresh: the routes that read a replica; `/api/v1/figures` is not among them) while "
             f"submissions run at full rate on the primary (the submit driver above, {callers} "
             f"callers, beside the reads' {callers}): once with "
             f"`DATABASE_REPLICA_URLS` naming a streaming replica (`.ci/replica`, "
             f"{'brought up for this run' if rep.get('brought_up') else 'already up'}), once without, same run.", "",
             "| reads on | view | p50 ms | p95 ms | req/s | n | errors | submissions/s | max replay lag s |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for side, title in (("with_replica", "replica"), ("primary_only", "primary")):
        entry = rep[side]
        for key, summary in entry["endpoints"].items():
            lines.append(f"| {title} | {LABELS.get(key, key)} | {_fmt(summary['p50'])} | {_fmt(summary['p95'])} | "
                         f"{_fmt(summary['rps'])} | {summary['n']} | {summary['errors']} | "
                         f"{_fmt(entry['submit']['per_second'])} | {_fmt(entry['lag'].get('max_replay_lag_s'))} |")
    if measured:
        lines[3:3] = [f"Measured by `{measured.get('command')}` on {measured.get('date')} (code {measured.get('code')}); "
                      "a full run without `--replica` keeps it in place.", ""]
    lag = rep["with_replica"]["lag"]
    lines += ["", f"Replica lag while the reads ran on it: at most {_fmt(lag.get('max_replay_lag_s'))} s "
                  f"(`pg_stat_replication.replay_lag`), {_fmt(lag.get('max_replay_age_s'))} s by "
                  f"`pg_last_xact_replay_timestamp()` on the replica, {_fmt(lag.get('max_behind_kb'))} kB of WAL "
                  f"behind; {lag.get('samples', 0)} samples. Share of the figures' reads the replica served: "
                  f"{_pct(share.get('share'))} (at most {_pct(share.get('share_upper'))}) — its "
                  f"{share.get('replica_xacts')} transactions, less at most {share.get('lag_checks_at_most')} lag "
                  f"checks, beside the primary's {share.get('primary_figures_xacts')} for the figures in the same "
                  f"phase (its transactions less the submissions', {_fmt(share.get('per_submission'))} each, "
                  "counted alone before the load; `pg_stat_database`). The figures are kept in each web process "
                  "until a tenant's record moves, so most refreshes read nothing at all."]
    return lines


LARGE_ROWS = 10_000  # a table with more rows than this must not be read whole on a hot path


def _plan_lines(results: dict) -> list[str]:
    """The query plans of the hot paths: statements, sequential scans, the slow plans."""
    explains = results.get("explain") or {}
    if not explains:
        return []
    limit = results["meta"]["explain_ms"]
    lines = ["", "## Query plans of the hot paths (auto_explain, EXPLAIN ANALYZE of the app's own statements)", "",
             f"At {results['sizes'][-1]['label']}: each path taken once to warm it, then three times with "
             f"`auto_explain` logging the plan of every statement (full log: `{results['meta']['explain_log']}`). A large table has more than "
             f"{LARGE_ROWS:,} rows; the small ones (tenants, departments, categories, a tenant's chain head…) "
             f"are cheaper to read whole, and the planner does. Foreign-key checks are the statements "
             f"PostgreSQL's own triggers run for each row written.", "",
             "| path | statements per request | foreign-key checks | sequential scans of large tables "
             "| of small tables | slowest statement |",
             "| --- | ---: | ---: | --- | --- | ---: |"]
    offenders = []
    for name, found in explains.items():
        scans = found["seq_scans"]
        large = [f"{t} ({v['rows']:,} rows)" for t, v in sorted(scans.items()) if v["rows"] > LARGE_ROWS]
        small = [t for t, v in sorted(scans.items()) if v["rows"] <= LARGE_ROWS]
        offenders += [f"{LABELS.get(name, name)}: {t}" for t in large]
        lines.append(f"| {LABELS.get(name, name)} | {found['statements']:g} | {found['checks']:g} | "
                     f"{', '.join(large) or 'none'} | "
                     f"{', '.join(small) or 'none'} | {_fmt(found['slowest_ms'], ' ms')} |")
    lines += ["", f"Sequential scans of large tables on the hot paths: {'; '.join(offenders) or 'none'}."]
    for name, found in explains.items():
        if found["plans"]:
            lines += ["", f"### {LABELS.get(name, name)}: statements over {limit} ms", ""]
            for plan in found["plans"]:
                lines += ["```", plan.strip(), "```"]
    if not any(found["plans"] for found in explains.values()):
        lines += ["", f"No statement on these paths took over {limit} ms."]
    return lines


def write_plot(results: dict, path: Path) -> bool:
    """p95 against the total number of cases, one line per endpoint, the SQL baselines dashed."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = results["sizes"]
    xs = [s["tenants"] * s["cases"] for s in sizes]
    fig, ax = plt.subplots(figsize=(9, 5.5), dpi=110)
    names = ["hello", *sizes[0]["endpoints"], "submit"]
    for k, name in enumerate(names):
        color = f"C{k % 10}"
        if name == "hello":
            ax.plot(xs, [s["hello"]["p95"] for s in sizes], "o-", color=color, label=LABELS[name])
            continue
        pick = (lambda s: s["submit"]) if name == "submit" else (lambda s, n=name: s["endpoints"][n])
        ax.plot(xs, [pick(s)["app"]["p95"] for s in sizes], "o-", color=color, label=LABELS[name])
        ax.plot(xs, [pick(s)["sql"]["p95"] for s in sizes], "x--", color=color, alpha=0.6, linewidth=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("cases in the database")
    ax.set_ylabel("p95 latency, ms (dashed: raw SQL for the same answer)")
    ax.set_title(f"qinqing — p95 latency against data size ({results['meta']['date']})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def _pct(value: float | None) -> str:
    return _fmt(value * 100 if value is not None else None, "%")


def read_json(path: Path) -> dict | None:
    """The JSON at `path`, or None when there is none."""
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def put_section(path: Path, begin: str, end: str, section: str) -> None:
    """Put a section of RESULTS.md between its markers in place of the last one (before the notes
    when new), leaving the rest of the file alone."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    elif "\n## Notes\n" in text:
        head, notes = text.rsplit("\n## Notes\n", 1)
        text = head.rstrip("\n") + "\n\n" + section + "\n\n## Notes\n" + notes
    else:
        text = (text.rstrip("\n") + "\n\n" if text else "") + section + "\n"
    path.write_text(text, encoding="utf-8")
