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
    case, hello = ep["case_page"]["app"], top["hello"]
    share = case["rps"] / hello["rps"] if hello["rps"] else None
    rows.append({"key": "case_page_share", "target": f"Case page throughput ≥ {CASE_PAGE_SHARE:.0%} of hello's",
                 "measured": f"{_fmt(case['rps'])} req/s", "baseline": f"hello {_fmt(hello['rps'])} req/s",
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


def write_markdown(results: dict, path: Path, plot_name: str | None, runs: list[str] | None = None) -> None:
    """RESULTS.md; `runs`: the consecutive full runs' section (bench/runs.py)."""
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
             f"- hello baseline: `GET /healthz` of the same server (no database); SQL baselines: hand-written "
             f"queries for the same answer, asyncpg, timed the same way (see `bench/baselines.py`)", "",
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
    lines += _sqlite_beside(path, results)
    lines += ["", "## Notes", ""] + [f"- {note}" for note in results.get("notes", [])]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _replica_lines(results: dict) -> list[str]:
    """`bench/run --replica` (bench/replica.py): the figures read on a replica under submissions."""
    rep = results.get("replica")
    if not rep or "with_replica" not in rep:
        return []
    share, paths = rep.get("share", {}), rep["endpoints"]
    lines = ["", "## Reads on a replica", "",
             f"The big screen's figures at {rep['size']} (`{paths['figures']}` and `{paths['figures_rollup']}`, "
             f"the screen's refresh: the routes that read a replica; `/api/v1/figures` is not among them) while "
             f"submissions run at full rate on the primary (the submit driver above, {results['meta']['concurrency']} "
             f"callers, beside the reads' {results['meta']['concurrency']}): once with "
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
    lag = rep["with_replica"]["lag"]
    lines += ["", f"Replica lag while the reads ran on it: at most {_fmt(lag.get('max_replay_lag_s'))} s "
                  f"(`pg_stat_replication.replay_lag`), {_fmt(lag.get('max_replay_age_s'))} s by "
                  f"`pg_last_xact_replay_timestamp()` on the replica, {_fmt(lag.get('max_behind_kb'))} kB of WAL "
                  f"behind; {lag.get('samples', 0)} samples. Share of the figures' reads the replica served: "
                  f"{_pct(share.get('share'))} (at most {_pct(share.get('share_upper'))}) — its "
                  f"{share.get('replica_xacts')} transactions, less at most {share.get('lag_checks_at_most')} lag "
                  f"checks, over the {share.get('expected_xacts')} the same requests run on the primary "
                  f"(`pg_stat_database`, calibrated without load)."]
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


# -- the embedded default (bench/run --engine sqlite) ----------------------------------------------

SQLITE_JSON = "results-sqlite.json"
SQLITE_BEGIN, SQLITE_END = "<!-- sqlite section: bench/run --engine sqlite -->", "<!-- end of the sqlite section -->"
SQLITE_LABELS = {"console": "Dispatch console, first page", "console_search": "Console search by text (排水)",
                 "console_number": "Console search by case number", "case_page": "Case page with its timeline"}
SQLITE_LIMITS = {"console": 150, "console_search": 150, "console_number": 150, "case_page": 80}


def mixed_errors(mixed: dict) -> int:
    """What the mixed load counts against zero: unexpected final answers, 5xx answers even when a
    retry then succeeded, and tracebacks in the server's log."""
    return mixed["unexpected"] + max(0, mixed["five_xx_seen"] - mixed["server_errors"]) + mixed["logged_errors"]


def pg_shares(pg: dict | None) -> dict[str, float]:
    """Each page's throughput as a share of hello's at the PostgreSQL run's largest size (a search
    by number, which PostgreSQL's run does not take, against its search by text)."""
    if not pg or not pg.get("sizes"):
        return {}
    top = pg["sizes"][-1]
    hello = top["hello"]["rps"]
    if not hello:
        return {}
    shares = {key: top["endpoints"][key]["app"]["rps"] / hello for key in SQLITE_LIMITS if key in top["endpoints"]}
    if "console_search" in shares:
        shares.setdefault("console_number", shares["console_search"])
    shares["submit"] = top["submit"]["app"]["rps"] / hello
    return shares


def sqlite_targets(results: dict, pg: dict | None = None) -> list[dict]:
    """The PostgreSQL section's latency targets, the submissions' ratio and the mixed load's zero
    errors, judged at every size of the SQLite run; and each page's throughput as a share of the
    same run's hello beside PostgreSQL's share (`pg`: the PostgreSQL run's results), which the
    machine's load moves far less than a p95 in milliseconds."""
    reference = pg_shares(pg)
    rows = []
    for size in results["sizes"]:
        hello = size["hello"]["rps"]
        for key, limit in SQLITE_LIMITS.items():
            app, sql = size["endpoints"][key]["app"], size["endpoints"][key]["sql"]
            share = app["rps"] / hello if hello else None
            rows.append({"size": size["label"], "cases": size["cases"], "key": key,
                         "target": f"{SQLITE_LABELS[key]}: p95 ≤ {limit} ms",
                         "measured": f"p95 {_fmt(app['p95'], ' ms')} (SQL {_fmt(sql['p95'], ' ms')})",
                         "met": app["p95"] is not None and app["p95"] <= limit,
                         "share": share, "pg_share": reference.get(key)})
        sub = size["submit"]
        ratio = sub["app"]["rps"] / sub["sql"]["rps"] if sub["sql"]["rps"] else None
        rows.append({"size": size["label"], "cases": size["cases"], "key": "submit",
                     "target": f"Case submission ≥ {SUBMIT_OF_SQL:.0%} of raw SQL on the same file",
                     "measured": f"{_fmt(sub['app']['rps'])}/s of SQL {_fmt(sub['sql']['rps'])}/s "
                                 f"({_fmt(ratio * 100 if ratio is not None else None, '%')})",
                     "met": ratio is not None and ratio >= SUBMIT_OF_SQL,
                     "share": sub["app"]["rps"] / hello if hello else None, "pg_share": reference.get("submit")})
        mixed = size["mixed"]
        rows.append({"size": size["label"], "cases": size["cases"], "key": "mixed",
                     "target": f"Mixed load of {mixed['clients']} clients: 0 errors",
                     "measured": f"{mixed_errors(mixed)} errors in {mixed['requests']:,} requests "
                                 f"(p95 {_fmt(mixed['latency_ms']['all']['p95'], ' ms')})",
                     "met": mixed_errors(mixed) == 0, "share": None, "pg_share": None})
    for row in rows:
        row["keeps_up"] = (None if row["share"] is None or row["pg_share"] is None
                           else row["share"] >= row["pg_share"])
    return rows


def _pct(value: float | None) -> str:
    return _fmt(value * 100 if value is not None else None, "%")


GROWTH = 2.0  # a page whose cost against the same run's hello grew this much has outgrown the engine


def move_point(results: dict) -> str:
    """When a tenant should move to PostgreSQL, by what the figures show: the first size at which
    the mixed load saw an error, or a page's throughput as a share of the same run's hello fell
    to 1/GROWTH of its share at the smallest size (the page slows with the case count, apart from
    what the machine's load does to every request alike)."""
    sizes = results["sizes"]
    if not sizes:
        return "Nothing was measured."
    rows = [r for r in sqlite_targets(results) if r["key"] != "submit"]
    first_share = {r["key"]: r["share"] for r in rows if r["cases"] == sizes[0]["cases"]}
    for row in rows:
        base = first_share.get(row["key"])
        row["grown"] = (base / row["share"] if row["share"] and base else None)
    missed = [r for r in rows if (r["key"] == "mixed" and not r["met"]) or (r["grown"] or 0) >= GROWTH]
    clients = sizes[-1]["mixed"]["clients"]
    if not missed:
        grown = max((r for r in rows if r["grown"]), key=lambda r: r["grown"], default=None)
        most = (f"; the most: {grown['target'].split(':')[0]}, {_fmt(grown['grown'], '×')} its cost at "
                f"{sizes[0]['label']} against hello" if grown and len(sizes) > 1 else "")
        return (f"Up to the largest size measured ({sizes[-1]['label']}) the {clients}-client mixed load ran "
                f"without an error and no page's cost against the same run's hello grew {GROWTH:g}× or more "
                f"with the case count{most}. Past that size, or past {clients} users working at once, move the "
                f"tenant to PostgreSQL (`qinqing tenant export`, then `qinqing tenant import` on the new server).")
    first = min(r["cases"] for r in missed)
    at = next(s["label"] for s in sizes if s["cases"] == first)
    what = "; ".join(f"{r['target'].split(':')[0]}: {r['measured']}" if r["key"] == "mixed" else
                     f"{r['target'].split(':')[0]} at {_pct(r['share'])} of hello against {_pct(first_share[r['key']])} "
                     f"at {sizes[0]['label']} ({r['measured']})"
                     for r in missed if r["cases"] == first)
    kept = [s["label"] for s in sizes if s["cases"] < first]
    before = (f" At {kept[-1]} it held, so the move is due between {kept[-1]} and {at}." if kept else "")
    return (f"Move a tenant to PostgreSQL before it reaches {first:,} cases, or {clients} users at once, "
            f"whichever comes first: at {at}, {what}.{before}")


def sqlite_lines(results: dict, pg: dict | None = None) -> list[str]:
    """The SQLite section of RESULTS.md (between markers, so either run rewrites only its part)."""
    meta, sizes = results["meta"], results["sizes"]
    lines = [SQLITE_BEGIN, "", "## The embedded default: SQLite (`bench/run --engine sqlite`)", "",
             f"- command: `{meta['command']}`; date: {meta['date']}; total run time {meta.get('seconds', 0):.0f} s; "
             f"code: {meta.get('code', 'unknown')}",
             f"- one tenant (`bench001`, the Luqiao manifest, every module on) in a SQLite {meta['sqlite']} file "
             f"(WAL), served by one `qinqing serve` with its in-process worker and no broker — the embedded "
             f"default as a township runs it; the worker relays the outbox while the measurements run",
             f"- **taken on a loaded {meta['nproc']}-core machine** ({meta['ram_gb']:.1f} GB RAM) shared with "
             f"other work (test suites running beside it): load average (`uptime`) "
             + "; ".join(f"{s['label']}: {s['load_before']} before, {s.get('load', '—')} at the first "
                         f"measurement, {s.get('load_after', '—')} after" for s in sizes)
             + ". Absolute figures move with that load; the ratios to the same run's hello and raw SQL move less.",
             f"- driver: as the PostgreSQL section (httpx over loopback, concurrency {meta['concurrency']}, "
             f"warm-up {meta['warmup']}, then {meta['requests']} requests per page or {meta['max_seconds']} s); "
             f"raw SQL baselines: the same hand-written queries (`bench/baselines.py`) on the same file through "
             f"aiosqlite, {meta['concurrency']} connections; submissions for {meta['submit_seconds']} s each",
             f"- mixed load: {meta['load_clients']} clients (`bench/load_client.py`) filing {meta['load_cases']:,} "
             f"cases, reading each back, listing the console, dispatching, accepting and refusing, every POST "
             f"with an Idempotency-Key and retried after a 503", "",
             "### Targets at each size", "",
             "The p95 targets are PostgreSQL's, in milliseconds, which this machine's load alone can cross; the "
             "last three columns show what load moves much less: the page's throughput as a share of the same "
             "run's hello, beside PostgreSQL's share for the same page at its largest size (its search by text "
             "for the search by number, which its run does not take). PostgreSQL's web processes leave the "
             "queries to the database's own processes, while the embedded default answers them in its one "
             "process, so its share is lower by design; the move is judged by how the share falls as the cases "
             "grow, and by the errors.", "",
             "| data | target | measured | met | share of hello | PostgreSQL's share | at or above it |",
             "| --- | --- | --- | --- | ---: | ---: | --- |"]
    for row in sqlite_targets(results, pg):
        keeps = "—" if row["keeps_up"] is None else "yes" if row["keeps_up"] else "no"
        lines.append(f"| {row['size']} | {row['target']} | {row['measured']} | {verdict(row['met'])} | "
                     f"{_pct(row['share'])} | {_pct(row['pg_share'])} | {keeps} |")
    lines += ["", f"**When to move to PostgreSQL.** {move_point(results)}",
              *[f"\n{note}" for note in results.get("notes", [])], "",
              "### Pages and submissions beside their baselines", "",
              "| endpoint | data | p50 ms | p95 ms | p99 ms | req/s | n | SQL p50 ms | SQL p95 ms | SQL req/s | "
              "p95 app/SQL | req/s of hello |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    names = ["hello", *(sizes[0]["endpoints"] if sizes else []), "submit"]
    for name in names:
        for size in sizes:
            entry = size["hello"] if name == "hello" else size["submit"] if name == "submit" else size["endpoints"][name]
            app, sql = (entry, None) if name == "hello" else (entry["app"], entry["sql"])
            ratio = app["p95"] / sql["p95"] if sql and sql["p95"] and app["p95"] else None
            share = app["rps"] / size["hello"]["rps"] * 100 if name != "hello" and size["hello"]["rps"] else None
            lines.append(f"| {SQLITE_LABELS.get(name, LABELS.get(name, name))} | {size['label']} | "
                         f"{_fmt(app['p50'])} | {_fmt(app['p95'])} | {_fmt(app['p99'])} | {_fmt(app['rps'])} | "
                         f"{app['n']} | {_fmt(sql['p50']) if sql else '—'} | {_fmt(sql['p95']) if sql else '—'} | "
                         f"{_fmt(sql['rps']) if sql else '—'} | {_fmt(ratio, '×')} | {_fmt(share, '%')} |")
    lines += ["", f"### Mixed load ({meta['load_clients']} clients)", "",
              "| data | requests | seconds | req/s | cases/s | p50 ms | p95 ms | p99 ms | errors | 5xx seen | retries "
              "| hello at the same concurrency |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for size in sizes:
        m, h = size["mixed"], size["hello_load"]
        every = m["latency_ms"]["all"]
        lines.append(f"| {size['label']} | {m['requests']:,} | {_fmt(m['seconds'])} | {_fmt(m['rps'])} | "
                     f"{_fmt(m['cases_per_second'])} | {_fmt(every['p50'])} | {_fmt(every['p95'])} | "
                     f"{_fmt(every['p99'])} | {mixed_errors(m)} | {m['five_xx_seen']} | {m['retries']} | "
                     f"{_fmt(h['rps'])} req/s, p95 {_fmt(h['p95'], ' ms')} |")
    lines += ["", "| data | file MB | events | generate s | web process RSS MB |", "| --- | ---: | ---: | ---: | ---: |"]
    for size in sizes:
        gen = size["generate"]
        lines.append(f"| {size['label']} | {_fmt(size.get('file_mb'))} | {_fmt(gen.get('events'))} | "
                     f"{_fmt(gen.get('seconds'))} | {_fmt(max(size.get('rss_mb') or [0]))} |")
    return lines + ["", SQLITE_END]


def read_json(path: Path) -> dict | None:
    """The JSON at `path`, or None when there is none."""
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _sqlite_beside(path: Path, pg: dict | None = None) -> list[str]:
    """The SQLite section from the results beside `path`, so a PostgreSQL run keeps it."""
    found = read_json(path.parent / SQLITE_JSON)
    if not found:
        return []
    try:
        return ["", *sqlite_lines(found, pg)]
    except (KeyError, TypeError):
        return []


def write_sqlite_section(results: dict, path: Path) -> None:
    """Put the SQLite section into RESULTS.md in place of the last one (before the notes when new),
    compared with the PostgreSQL run's results beside it (results.json)."""
    section = "\n".join(sqlite_lines(results, read_json(path.parent / "results.json")))
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if SQLITE_BEGIN in text and SQLITE_END in text:
        head, rest = text.split(SQLITE_BEGIN, 1)
        text = head + section + rest.split(SQLITE_END, 1)[1]
    elif "\n## Notes\n" in text:
        head, notes = text.rsplit("\n## Notes\n", 1)
        text = head.rstrip("\n") + "\n\n" + section + "\n\n## Notes\n" + notes
    else:
        text = (text.rstrip("\n") + "\n\n" if text else "") + section + "\n"
    path.write_text(text, encoding="utf-8")
