"""Test set-up: a fresh database (SQLite file, or PostgreSQL when TEST_DATABASE_URL is set),
migrated and loaded with the demo tenants by the real `qinqing` commands, before collection.
Under pytest-xdist (`make test` spreads files over the cores) each worker gets its own database,
var directory and Redis database; the controller, which runs no test, sets up nothing."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

if os.environ.get("QINQING_FAST_TESTS"):  # make test-fast runs without this module; a test imported it
    raise RuntimeError("a test in FAST_TESTS imports tests.conftest, which migrates and loads the demo (~25 s): "
                       "take ROOT from the test file's own path, or leave the test out of FAST_TESTS")


def _xdist_controller() -> bool:
    """True in the process that only hands test files to xdist workers (`-n N`, N not 0)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return False
    args = [*sys.argv[1:], *shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))]
    for i, arg in enumerate(args):
        if arg in ("-n", "--numprocesses") and i + 1 < len(args):
            return args[i + 1] != "0"
        if arg.startswith("--numprocesses="):
            return arg.split("=", 1)[1] != "0"
        if arg.startswith("-n") and arg[2:].isalnum():
            return arg[2:] != "0"
    return False


CONTROLLER = _xdist_controller()
WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)
TMP = Path(tempfile.mkdtemp(prefix="qinqing-test-"))
DEMO_PASSWORD = "demo-Pass-2026"

os.environ["QINQING_VAR_DIR"] = str(TMP)
os.environ["DEMO_PASSWORD"] = DEMO_PASSWORD
os.environ["SECRET_KEY"] = "test-secret-key-0123456789abcdef"
os.environ["QINQING_NO_ENTRY_POINTS"] = "0"
os.environ["QINQING_CHECK_PREPARED"] = "1"  # every prepared query also built afresh and compared
os.environ.setdefault("QINQING_DEMO_CASES", "150")
_pg_admin_url = None
_test_db_url = os.environ.get("TEST_DATABASE_URL", "")
if _test_db_url.startswith("postgres") and not CONTROLLER:
    _pg_admin_url = _test_db_url
    # TEST_DATABASE_PREFIX: several people's runs on one server, each with names of its own
    _name = f"{os.environ.get('TEST_DATABASE_PREFIX', 'qinqing_test')}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    DATABASE_URL = re.sub(r"/[^/]*$", f"/{_name}", _test_db_url)
    subprocess.run(["psql", re.sub(r"/[^/]*$", "/postgres", _test_db_url), "-qc", f'CREATE DATABASE "{_name}"'],
                   check=True)
else:
    DATABASE_URL = f"sqlite:///{TMP}/test.db"
os.environ["DATABASE_URL"] = DATABASE_URL
_broker = os.environ.get("TEST_BROKER_URL", "")
if _broker.startswith("redis") and os.environ.get("PYTEST_XDIST_WORKER"):  # one Redis database per worker
    _broker = re.sub(r"(/\d+)?$", f"/{WORKER + 1}", _broker, count=1)
os.environ["BROKER_URL"] = _broker

for command in ([] if CONTROLLER else (["migrate"], ["demo"])):
    done = subprocess.run([sys.executable, "-m", "cli", *command], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"qinqing {command[0]} failed:\n{done.stdout}\n{done.stderr}")

import httpx  # noqa: E402
import pytest  # noqa: E402

from tests.helpers import Browser  # noqa: E402


def pytest_collection_modifyitems(config, items):
    """The load and fault runs (marker `load`) start their own servers and take minutes: they are
    deselected — reported, not skipped — unless QINQING_LOAD_TESTS=1 (make test-load, test-faults)."""
    if os.environ.get("QINQING_LOAD_TESTS") == "1":
        return
    heavy = [item for item in items if item.get_closest_marker("load")]
    if heavy:
        config.hook.pytest_deselected(items=heavy)
        items[:] = [item for item in items if not item.get_closest_marker("load")]


def pytest_sessionfinish(session, exitstatus):
    if _pg_admin_url:
        name = DATABASE_URL.rsplit("/", 1)[1]
        subprocess.run(["psql", re.sub(r"/[^/]*$", "/postgres", _pg_admin_url), "-qc",
                        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], capture_output=True)


@pytest.fixture(scope="session")
def app():
    from web.app import create_app
    from workers.broker import setup_broker

    setup_broker()
    return create_app(embedded_worker=False)


@pytest.fixture
async def behind_the_record():
    """Change a case row without an event, to arrange a test, and put the changed columns back at
    its end, so that a later `qinqing audit verify` still finds every row as its record says."""
    from core.cases.tables import Case
    from core.oversight import tally
    from tenants.scope import current_tenant, scoped

    changed: list[tuple[str, int, dict, dict]] = []

    async def change(case_id: int, values: dict) -> None:
        before = await scoped(Case).select(*values).where(Case.id == case_id).first()
        changed.append((current_tenant().slug, case_id, {c: before[c._meta.name] for c in values}, values))
        await scoped(Case).update(values).where(Case.id == case_id)

    yield change
    from tests.helpers import in_tenant

    for slug, case_id, before, values in reversed(changed):
        async with in_tenant(slug):
            now = await scoped(Case).select(*values).where(Case.id == case_id).first()
            # only what still holds the arranged value: a later step may have set it on the record
            back = {c: v for c, v in before.items() if now[c._meta.name] == values[c]}
            if back:
                await scoped(Case).update(back).where(Case.id == case_id)
                await tally.refresh([case_id])


@pytest.fixture
async def client(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


@pytest.fixture
def browser(app):
    """A logged-out browser: cookies, CSRF token, and helpers to log in and post forms."""
    return Browser(app)
