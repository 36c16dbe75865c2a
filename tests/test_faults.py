"""Faults survived (故障演练): `python -m bench.faults` hurts the real processes on a private
PostgreSQL cluster and a private Redis — a worker killed mid-job, the leading scheduler killed,
Redis and PostgreSQL restarted under load — and each test here reads what one scenario saw.

Minutes long and starting servers, so marked `load`: deselected by `make test`, run by
`make test-faults` (QINQING_LOAD_TESTS=1).  The quick checks at the end run in `make test`.
"""

import json
import subprocess
import sys

import pytest

from bench.procs import ROOT


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("faults") / "faults.json"
    done = subprocess.run([sys.executable, "-m", "bench.faults", "--json", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=1500)
    print(done.stdout[-8000:], done.stderr[-3000:])
    assert out.exists(), done.stdout[-6000:] + done.stderr[-3000:]
    found = json.loads(out.read_text())
    assert "setup" not in found, found["setup"]
    return found


def passed(results, name):
    result = results[name]
    assert result["ok"], result["error"]
    return result


@pytest.mark.load
def test_a_job_killed_with_its_worker_completes_once_after_the_restart(results):
    result = passed(results, "worker-kill")
    assert result["starts"] >= 2 and result["effects"] == 1


@pytest.mark.load
def test_another_scheduler_takes_over_and_no_slot_runs_twice(results):
    result = passed(results, "scheduler-failover")
    assert result["new_leader"] != result["killed"] and result["takeover_seconds"] < 30
    assert result["cases"] >= 20


@pytest.mark.load
def test_a_broker_restart_under_load_loses_nothing(results):
    result = passed(results, "broker-restart")
    assert result["readyz_while_down"] == 503 and result["filed_while_down"] > 0
    assert result["cases"] > result["filed_while_down"] and result["retried_handovers"] > 0


@pytest.mark.load
def test_postgres_restart_answers_503_and_recovers_by_itself(results):
    result = passed(results, "postgres-restart")
    assert result["readyz_while_down"] == result["submit_while_down"] == result["page_while_down"] == 503
    assert result["cases"] == 8


# -- quick checks of the same behaviour, in `make test` ---------------------------------------------

def test_an_unreachable_database_is_told_from_a_bug():
    import asyncpg

    from core.db import database_unavailable

    def caused(exc, by):
        exc.__cause__ = by
        return exc

    for down in (ConnectionRefusedError(111, "Connect call failed"), asyncpg.CannotConnectNowError("starting up"),
                 asyncpg.AdminShutdownError("terminating connection"), asyncpg.InterfaceError("connection is closed"),
                 caused(RuntimeError("query failed"), ConnectionResetError())):
        assert database_unavailable(down), down
    for bug in (ValueError("bad"), asyncpg.UniqueViolationError("duplicate key"), asyncpg.InterfaceError("in use")):
        assert not database_unavailable(bug), bug


async def test_a_database_outage_answers_503_to_the_api_not_500(app):
    from litestar import Request

    from web.errors import exception_handler

    request = Request({"type": "http", "method": "POST", "path": "/t/luqiao/api/v1/cases", "raw_path": b"",
                       "headers": [], "query_string": b"", "app": app, "state": {}, "path_params": {}})
    response = exception_handler(request, ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"))
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.content["code"] == "unavailable" and "5432" not in str(response.content)
