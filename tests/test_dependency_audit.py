"""`.ci/audit.py` (make audit), the locked dependency set against PyPI's advisories, run as a process
against a fake PyPI JSON API on 127.0.0.1: no network, no fixtures."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "audit.py"

VULN = {
    "id": "PYSEC-2026-101",
    "aliases": ["CVE-2026-0101", "GHSA-aaaa-bbbb-cccc"],
    "summary": "",
    "details": "Header injection in widget parsing.\nMore text that is not printed.",
    "fixed_in": ["1.0.1"],
    "link": "https://osv.dev/vulnerability/PYSEC-2026-101",
    "source": "osv",
    "withdrawn": None,
}


class FakePyPI:
    """Serves routes {path: json document}; any other path answers 404 (as the proxy here does for
    the per-release endpoint).  Records the paths asked for."""

    def __init__(self):
        self.routes: dict[str, dict] = {}
        self.asked: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake.asked.append(self.path)
                document = fake.routes.get(self.path)
                body = json.dumps(document if document is not None else {"message": "Not Found"}).encode()
                self.send_response(200 if document is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/pypi"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def project(self, name: str, newest: str, vulnerabilities=(), releases=None):
        self.routes[f"/pypi/{name}/json"] = {
            "info": {"name": name, "version": newest},
            "releases": {v: [] for v in (releases or [newest])},
            "vulnerabilities": list(vulnerabilities),
        }

    def release(self, name: str, version: str, vulnerabilities=()):
        self.routes[f"/pypi/{name}/{version}/json"] = {
            "info": {"name": name, "version": version}, "vulnerabilities": list(vulnerabilities)}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def pypi():
    fake = FakePyPI()
    yield fake
    fake.close()


def audit(tmp_path: Path, index_url: str, lock: str, reviewed: str = "", *extra: str):
    lock_file = tmp_path / "requirements.lock"
    lock_file.write_text("# Exact versions of every dependency.\n" + lock)
    reviewed_file = tmp_path / "audit-reviewed.toml"
    reviewed_file.write_text(reviewed)
    env = dict(os.environ, no_proxy="127.0.0.1,localhost", NO_PROXY="127.0.0.1,localhost")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--index-url", index_url, "--lock", str(lock_file),
         "--reviewed", str(reviewed_file), "--timeout", "5", *extra],
        capture_output=True, text=True, timeout=120, env=env)
    return done.returncode, done.stdout + done.stderr


def review(name: str, version: str) -> str:
    return (f'["{name}"]\nversion = "{version}"\nreviewed = 2026-11-28\n'
            f'source = "PyPA advisory database"\nwhy = "held back by Python 3.11; no advisory affects it"\n')


def test_newest_release_with_a_vulnerability_fails_and_names_it(tmp_path, pypi):
    pypi.project("widget", "1.0.0", [VULN])
    pypi.project("clean", "2.0")
    code, out = audit(tmp_path, pypi.url, "widget==1.0.0\nclean==2.0\n")
    assert code == 1, out
    assert "widget 1.0.0: PYSEC-2026-101 (CVE-2026-0101, GHSA-aaaa-bbbb-cccc) fixed in 1.0.1" in out
    assert "Header injection in widget parsing." in out
    assert "More text" not in out
    assert "2 pins" in out and "2 audited against PyPI's advisories" in out
    assert out.strip().splitlines()[-1].startswith("FAILED: 1 known vulnerability")
    # the per-release endpoint was tried first, then the project endpoint
    assert pypi.asked.index("/pypi/widget/1.0.0/json") < pypi.asked.index("/pypi/widget/json")


def test_withdrawn_vulnerability_is_ignored(tmp_path, pypi):
    pypi.project("widget", "1.0.0", [dict(VULN, withdrawn="2026-10-01T00:00:00Z")])
    code, out = audit(tmp_path, pypi.url, "widget==1.0.0\n")
    assert code == 0, out
    assert "PYSEC-2026-101" not in out
    assert out.strip().splitlines()[-1].startswith("OK: no known vulnerability in 1 locked pins")


def test_pin_behind_the_newest_release_is_reported_not_failed(tmp_path, pypi):
    """A release published after the lock must not turn a clean commit red: the verdict depends on
    the commit and the advisories, never on the date."""
    pypi.project("clean", "2.0")
    pypi.project("old-thing", "3.0", releases=["2.9", "3.0"])
    code, out = audit(tmp_path, pypi.url, "clean==2.0\nOld_Thing==2.9\n")
    assert code == 0, out
    assert "old-thing 2.9: could not be audited (not the newest release (3.0)" in out
    assert "Not audited and not reviewed (reported, not failed)" in out
    assert out.strip().splitlines()[-1].startswith("OK: no known vulnerability in 2 locked pins")
    assert "1 not auditable from here" in out.strip().splitlines()[-1]


def test_vulnerability_fails_even_beside_a_pin_that_is_behind(tmp_path, pypi):
    pypi.project("widget", "1.0.0", [VULN])
    pypi.project("old-thing", "3.0", releases=["2.9", "3.0"])
    code, out = audit(tmp_path, pypi.url, "widget==1.0.0\nold-thing==2.9\n")
    assert code == 1, out
    assert out.strip().splitlines()[-1].startswith("FAILED: 1 known vulnerability")


def test_pin_reviewed_with_the_same_version_passes(tmp_path, pypi):
    pypi.project("old-thing", "3.0", releases=["2.9", "3.0"])
    code, out = audit(tmp_path, pypi.url, "old_thing==2.9\n", review("Old.Thing", "2.9"))
    assert code == 0, out
    assert "1 reviewed by hand" in out
    assert "old-thing 2.9 (newest 3.0): reviewed 2026-11-28 against PyPA advisory database" in out
    assert out.strip().splitlines()[-1].startswith("OK:")


def test_pin_reviewed_for_another_version_asks_for_re_review(tmp_path, pypi):
    pypi.project("old-thing", "3.0", releases=["2.8", "2.9", "3.0"])
    code, out = audit(tmp_path, pypi.url, "old-thing==2.9\n", review("old-thing", "2.8"))
    assert code == 0, out
    assert "old-thing 2.9: reviewed by hand for 2.8" in out
    assert "re-review after the version changed" in out


def test_review_entry_missing_fields_does_not_count(tmp_path, pypi):
    pypi.project("old-thing", "3.0", releases=["2.9", "3.0"])
    code, out = audit(tmp_path, pypi.url, "old-thing==2.9\n", '[old-thing]\nversion = "2.9"\nreviewed = 2026-11-28\n')
    assert code == 1, out
    assert "lacks source, why" in out
    assert "old-thing 2.9: could not be audited" in out


def test_per_release_endpoint_is_used_when_it_answers(tmp_path, pypi):
    pypi.project("widget", "1.4.0")                     # newest has nothing, but...
    pypi.release("widget", "1.0.0", [VULN])             # ...the pinned release is vulnerable
    code, out = audit(tmp_path, pypi.url, "widget==1.0.0\n")
    assert code == 1, out
    assert "widget 1.0.0: PYSEC-2026-101" in out
    assert "1 via the per-release endpoint" in out
    assert "/pypi/widget/json" not in pypi.asked


def test_json_report(tmp_path, pypi):
    pypi.release("widget", "1.0.0")
    pypi.project("old-thing", "3.0", releases=["2.9", "3.0"])
    code, out = audit(tmp_path, pypi.url, "widget==1.0.0\nold-thing==2.9\n", review("old-thing", "2.9"), "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["exit_code"] == 0
    assert report["counts"]["pins"] == 2
    assert report["counts"]["audited"] == 1 and report["counts"]["reviewed"] == 1
    assert {p["name"]: p["status"] for p in report["pins"]} == {"widget": "audited", "old-thing": "reviewed"}


def test_unreachable_index_exits_2(tmp_path):
    with socket.socket() as s:                          # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, out = audit(tmp_path, f"http://127.0.0.1:{port}/pypi", "widget==1.0.0\nclean==2.0\n")
    assert code == 2, out
    assert "could not be reached at all" in out.strip().splitlines()[-1]
