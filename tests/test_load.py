"""Load with nothing lost (压力测试): 1,000 cases filed by 50 concurrent clients across 10 tenants,
each case read back and the dispatcher listing cases in between, every POST with an
Idempotency-Key and retried on no answer or a 503 — on PostgreSQL + Redis through two web
processes, two workers and a scheduler, and on SQLite through one `qinqing serve` with its
in-process worker.  Every case stored once, every outbox message applied once, every audit chain
intact, no 5xx (not even one a retry got past), no error in the server's log.

They start real servers and take minutes, so they carry the `load` marker: `make test` leaves
them out (deselected, see tests/conftest.py); `make test-load` runs the PostgreSQL one and `make
test-load-sqlite` the SQLite one (QINQING_LOAD_TESTS=1).  The full run is `python -m bench.load`
(10,000 cases, 200 clients; `--database-url sqlite://` for SQLite).
"""

import json
import subprocess
import sys
import time

import pytest

from bench.procs import ROOT

pytestmark = pytest.mark.load


def _load(tmp_path, label: str, *extra: str) -> dict:
    out = tmp_path / "load.json"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "bench.load", "--cases", "1000", "--clients", "50",
                           "--json", str(out), *extra], cwd=ROOT, capture_output=True, text=True, timeout=1500)
    seconds = time.monotonic() - started
    print(done.stdout)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    summary = json.loads(out.read_text())
    t, r = summary["traffic"], summary["retries"]
    print(f"{label}: 1,000 cases by 50 clients in {seconds:.0f}s ({t['seconds']:.1f}s driven): "
          f"{t['requests']} requests, {t['requests_per_second']} req/s, p95 {summary['latency_ms']['all']['p95']} ms, "
          f"5xx {r['five_xx']}, retries {r['total']} ({sum(r['replayed'].values())} replayed)")
    return summary


def _nothing_lost(summary: dict) -> None:
    assert summary["problems"] == []
    stored = summary["stored"]["tenants"]
    assert len(stored) == 10 and sum(row["stored"] for row in stored.values()) == 1000
    assert all(row["stored"] == row["201"] == row["sent"] for row in stored.values())
    assert not [s for s in summary["statuses"] if not s.endswith((" 200", " 201"))], summary["statuses"]
    assert summary["statuses"]["read 200"] == 1000 and summary["statuses"]["list 200"] >= 400
    assert summary["retries"]["five_xx"] == 0 and summary["logged_errors"] == 0
    steps = summary["stored"]["events"]
    assert steps["submit"] == 1000 and steps["dispatch"] >= 400 and steps["refuse"] >= 150
    messages = summary["messages"]
    assert messages["outbox"] > 1000 and messages["processed"] == messages["outbox"]
    assert messages["failed"] == messages["dead_lettered"] == messages["notices_not_once"] == 0
    assert len([line for line in summary["audit"] if ": ok (" in line]) >= 10


def test_a_thousand_cases_from_fifty_clients_lose_nothing(tmp_path):
    _nothing_lost(_load(tmp_path, "PostgreSQL load"))


def test_on_sqlite_a_thousand_cases_from_fifty_clients_lose_nothing(tmp_path):
    summary = _load(tmp_path, "SQLite load", "--database-url", "sqlite://")
    assert summary["processes"] == {"web": 1, "workers": "in-process", "schedulers": "in-process"}
    _nothing_lost(summary)
