"""The benchmark's reading of auto_explain's log: which statements a hot path ran, and which large
tables it read whole (the acceptance line "EXPLAIN shows no sequential scan on the hot paths")."""

from bench.plans import is_foreign_key_check, plan_blocks, seq_scans, slow_plans, tables_read
from bench.report import _plan_lines

BEFORE = """2026-11-29 00:10:17.820 UTC [2212] LOG:  checkpoint starting: wal
2026-11-29 00:27:44.900 UTC [24432] postgres@qinqing_bench_1000000 LOG:  duration: 99.0 ms  plan:
\tQuery Text: SELECT 'before the offset'
\tSeq Scan on event  (cost=0.00..1.10 rows=10 width=4) (actual time=0.004..0.005 rows=10 loops=1)
"""
LOG = """2026-11-29 00:27:44.935 UTC [24432] postgres@qinqing_bench_1000000 LOG:  duration: 31.5 ms  plan:
\tQuery Text: SELECT count(*) FROM tenant t JOIN case_file c ON c.tenant_id = t.id WHERE c.id < 50
\tAggregate  (cost=87.93..87.94 rows=1 width=8) (actual time=0.835..0.836 rows=1 loops=1)
\t  ->  Hash Join  (cost=1.51..87.57 rows=143 width=0) (actual time=0.035..0.830 rows=49 loops=1)
\t        ->  Parallel Seq Scan on case_file c  (cost=0.29..85.82 rows=143 width=4) (actual rows=49 loops=1)
\t        ->  Hash  (cost=1.10..1.10 rows=10 width=4) (actual time=0.009..0.009 rows=10 loops=1)
\t              ->  Seq Scan on tenant t  (cost=0.00..1.10 rows=10 width=4) (actual rows=10 loops=1)
2026-11-29 00:27:44.936 UTC [24433] postgres@qinqing_bench_10000 LOG:  duration: 40.0 ms  plan:
\tQuery Text: SELECT 'another database'
\tSeq Scan on case_file  (cost=0.00..1.10 rows=10 width=4) (actual rows=10 loops=1)
2026-11-29 00:27:44.937 UTC [24432] postgres@qinqing_bench_1000000 LOG:  duration: 25.0 ms  plan:
\tQuery Text: SELECT count(*) FROM tenant t JOIN case_file c ON c.tenant_id = t.id WHERE c.id < 70
\tSeq Scan on tenant t  (cost=0.00..1.10 rows=10 width=4) (actual rows=10 loops=1)
2026-11-29 00:27:44.938 UTC [24432] postgres@qinqing_bench_1000000 LOG:  duration: 0.004 ms  plan:
	Query Text: SELECT 1 FROM ONLY "public"."tenant" x WHERE "id" OPERATOR(pg_catalog.=) $1 FOR KEY SHARE OF x
	LockRows  (cost=0.00..1.26 rows=1 width=10) (actual rows=1 loops=1)
	  ->  Seq Scan on tenant x  (cost=0.00..1.25 rows=1 width=10) (actual rows=1 loops=1)
2026-11-29 00:27:44.939 UTC [24432] postgres@qinqing_bench_1000000 LOG:  duration: 0.007 ms  plan:
\tQuery Text: SELECT id FROM case_file WHERE id = 3
\tIndex Only Scan using case_file_pkey on case_file  (cost=0.29..8.30 rows=1 width=4) (actual rows=1 loops=1)
"""


def _blocks(tmp_path):
    path = tmp_path / "postgresql.log"
    path.write_text(BEFORE + LOG, encoding="utf-8")
    return plan_blocks(path, len(BEFORE.encode()), "qinqing_bench_1000000")


def test_the_plans_of_one_database_after_the_offset_are_read_and_their_sequential_scans_counted(tmp_path):
    blocks = _blocks(tmp_path)
    queries = [b.split("Query Text: ", 1)[1].split("\n")[0] for b in blocks]
    assert [q.rsplit("WHERE ", 1)[1][:9] for q in queries] == ["c.id < 50", "c.id < 70", '"id" OPER', "id = 3"]
    assert blocks[0].startswith("postgres@qinqing_bench_1000000 LOG:  duration: 31.5 ms")
    assert [is_foreign_key_check(b) for b in blocks] == [False, False, True, False]
    assert seq_scans(blocks) == {"case_file": 1, "tenant": 3}


def test_every_table_a_plan_reads_is_named_whatever_the_scan():
    blocks = ["Index Scan using ix_case_event_tenant_id_case on case_event e  (cost=0.56..8.6 rows=1)",
              "Index Only Scan Backward using case_file_pkey on case_file  (cost=0.29..8.30 rows=1)\n"
              "  ->  Bitmap Heap Scan on sign_off s  (cost=4.3..12.1 rows=3)",
              "Seq Scan on tenant t  (cost=0.00..1.10 rows=10 width=4)"]
    assert tables_read(blocks) == ["case_event", "case_file", "sign_off", "tenant"]
    assert tables_read(blocks[2:]) == ["tenant"]


def test_the_slow_plans_shown_are_over_the_limit_slowest_first_and_once_per_statement(tmp_path):
    plans = slow_plans(_blocks(tmp_path), over_ms=20)
    assert len(plans) == 1  # the 25 ms one differs from the 31.5 ms one only in a number
    assert "duration: 31.5 ms" in plans[0]


def _results(scans):
    return {"sizes": [{"label": "1M cases (100 × 10,000)"}],
            "meta": {"explain_ms": 20, "explain_log": "var/bench/explain.log"},
            "explain": {"case_page": {"statements": 6.0, "checks": 0.0, "seq_scans": scans, "slowest_ms": 3.2,
                                      "plans": []}}}


def test_the_report_names_a_large_table_read_whole_and_passes_small_ones():
    text = "\n".join(_plan_lines(_results({"case_file": {"scans": 1, "rows": 1_000_000},
                                           "tenant": {"scans": 2, "rows": 100}})))
    assert "| Case page with its timeline | 6 | 0 | case_file (1,000,000 rows) | tenant | 3.20 ms |" in text
    assert ("Sequential scans of large tables on the hot paths: "
            "Case page with its timeline: case_file (1,000,000 rows).") in text

    clean = "\n".join(_plan_lines(_results({"tenant": {"scans": 2, "rows": 100}})))
    assert "Sequential scans of large tables on the hot paths: none." in clean
    assert "No statement on these paths took over 20 ms." in clean
