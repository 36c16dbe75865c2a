"""The embedded default's section of RESULTS.md (`bench/run --engine sqlite`): its targets, the
point at which a tenant should move to PostgreSQL, its pages and mixed load beside PostgreSQL's."""

from __future__ import annotations

from pathlib import Path

from bench.report import LABELS, SUBMIT_OF_SQL, _fmt, _pct, put_section, read_json, verdict

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


def beside(path: Path, pg: dict | None = None) -> list[str]:
    """The SQLite section from the results beside `path`, so a PostgreSQL run keeps it."""
    found = read_json(path.parent / SQLITE_JSON)
    if not found:
        return []
    try:
        return ["", *sqlite_lines(found, pg)]
    except (KeyError, TypeError):
        return []


def write_sqlite_section(results: dict, path: Path) -> None:
    """The SQLite section, compared with the PostgreSQL run's results beside it (results.json)."""
    put_section(path, SQLITE_BEGIN, SQLITE_END, "\n".join(sqlite_lines(results, read_json(path.parent / "results.json"))))
