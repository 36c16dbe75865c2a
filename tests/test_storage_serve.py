"""Attachments any web node can serve: with ``ATTACHMENT_STORE=database`` a file uploaded through
one `qinqing serve` process downloads, byte for byte, through another started in a different
working directory with a different var directory (a second machine), and neither keeps it on disk."""

import asyncio
import hashlib
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import DATABASE_URL, ROOT, TMP
from tests.helpers import Browser
from tests.test_filetypes import make_pdf

FILE = make_pdf() + b"%" + os.urandom(700_000).replace(b"%%EOF", b"xxxxx")  # three chunks of the database store


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _app_database_url() -> str:
    """The application role's own URL, as a second machine (without the first one's var directory) has it."""
    if not DATABASE_URL.startswith("postgres"):
        return DATABASE_URL  # an absolute SQLite path
    password = (TMP / "database_app_password").read_text().strip()
    return re.sub(r"^postgres(ql)?://[^@/]*@", f"postgresql://qinqing_app:{password}@", DATABASE_URL)


class Node:
    """One web node: `qinqing serve` in its own working directory with its own var directory."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True)
        self.var, self.port = folder / "var", _free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "QINQING_VAR_DIR": str(self.var), "ATTACHMENT_STORE": "database",
               "DATABASE_URL": _app_database_url(), "AUDIT_KEY_FILE": str(TMP / "audit_signing_key.pem")}
        self.process = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(self.port)], cwd=folder,
                                        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    async def browser(self) -> Browser:
        b = Browser.__new__(Browser)  # a browser over TCP to this node
        b.client, b.tokens, b.csrf = httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}", timeout=30), {}, ""
        for _ in range(200):
            try:
                if (await b.client.get("/healthz")).status_code == 200:
                    return b
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
        raise AssertionError(f"the node on port {self.port} did not start: {self.process.stderr.read().decode()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def files_on_disk(self) -> list[Path]:
        return [p for p in (self.var / "attachments").rglob("*") if p.is_file()]


async def test_a_file_uploaded_through_one_node_downloads_through_another(tmp_path):
    first, second = Node(tmp_path / "node-a"), Node(tmp_path / "node-b")
    try:
        company = await first.browser()
        assert (await company.login("company@luqiao", "luqiao")).status_code == 303
        await company.get("/t/luqiao/cases/new")
        submitted = await company.client.post("/t/luqiao/cases", data={
            "_csrf_token": company.csrf, "category": "municipal", "title": "两台机器", "description": "见附件"},
            files=[("files", ("现场记录.pdf", FILE, "application/pdf"))])
        assert submitted.status_code == 303, submitted.text
        case_url = submitted.headers["location"].split("?")[0]
        page = await company.get(case_url)
        link = re.search(r'href="(/t/luqiao/cases/\d+/attachments/\d+)"', page.text).group(1)

        dispatcher = await second.browser()
        assert (await dispatcher.login("dispatcher@luqiao", "luqiao")).status_code == 303
        download = await dispatcher.client.get(link)
        assert download.status_code == 200, download.text
        assert hashlib.sha256(download.content).hexdigest() == hashlib.sha256(FILE).hexdigest()
        assert download.headers["content-type"].startswith("application/pdf")
        assert "attachment;" in download.headers["content-disposition"]
        assert (await company.client.get(link)).content == FILE  # and back on the first node
        missing = await dispatcher.client.get(link.rsplit("/", 1)[0] + "/999999999")
        assert missing.status_code == 404
        assert not first.files_on_disk() and not second.files_on_disk()
        for b in (company, dispatcher):
            await b.close()
    finally:
        first.stop()
        second.stop()
