"""Load with nothing lost (压力测试): 1,000 cases filed by 50 concurrent clients across 10 tenants on
PostgreSQL + Redis, through two web processes, two workers and a scheduler — every case stored
once, every outbox message applied once, every audit chain intact, no 5xx.

It starts real servers and takes minutes, so it carries the `load` marker: `make test` leaves it
out (deselected, see tests/conftest.py) and `make test-load` runs it (QINQING_LOAD_TESTS=1).
The full run is `python -m bench.load` (10,000 cases, 200 clients).
"""

import json
import subprocess
import sys

import pytest

from bench.procs import ROOT

pytestmark = pytest.mark.load


def test_a_thousand_cases_from_fifty_clients_lose_nothing(tmp_path):
    out = tmp_path / "load.json"
    done = subprocess.run([sys.executable, "-m", "bench.load", "--cases", "1000", "--clients", "50",
                           "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=1500)
    print(done.stdout)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    summary = json.loads(out.read_text())
    assert summary["problems"] == []
    stored = summary["stored"]["tenants"]
    assert len(stored) == 10 and sum(row["stored"] for row in stored.values()) == 1000
    assert all(row["stored"] == row["201"] for row in stored.values())
    assert not [s for s in summary["statuses"] if not s.endswith((" 200", " 201"))], summary["statuses"]
    steps = summary["stored"]["events"]
    assert steps["submit"] == 1000 and steps["dispatch"] >= 400 and steps["refuse"] >= 150
    messages = summary["messages"]
    assert messages["outbox"] > 1000 and messages["processed"] == messages["outbox"]
    assert messages["failed"] == messages["dead_lettered"] == messages["notices_not_once"] == 0
    assert len([line for line in summary["audit"] if ": ok (" in line]) >= 10
