"""The open big screen learns of a change within 5 seconds: server-sent events from a real
`qinqing serve` process, read over TCP while a case is submitted through the API."""

import asyncio
import os
import socket
import subprocess
import sys
import time

import httpx

from tests.conftest import ROOT
from tests.helpers import CSRF_RE, DEMO_PASSWORD, token_for


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_a_case_change_reaches_an_open_screen_within_5_seconds():
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port)], cwd=ROOT,
                              env={**os.environ}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            for _ in range(100):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
            login = await client.get("/t/jiaojiang/login")
            csrf = CSRF_RE.search(login.text).group(1)  # the page's token, bound to this visitor's cookie
            done = await client.post("/t/jiaojiang/login", data={
                "_csrf_token": csrf, "username": "dispatcher@jiaojiang", "password": DEMO_PASSWORD})
            assert done.status_code == 303
            token = await token_for("company@jiaojiang", "jiaojiang")
            async with client.stream("GET", "/t/jiaojiang/screen/stream") as stream:
                assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
                lines = stream.aiter_lines()

                async def next_event() -> str:
                    async for line in lines:
                        if line.startswith("event:"):
                            return line.split(":", 1)[1].strip()
                    return ""

                assert await asyncio.wait_for(next_event(), 10) == "ready"
                started = time.monotonic()
                created = await client.post("/t/jiaojiang/api/v1/cases", headers={"Authorization": f"Bearer {token}"},
                                            json={"category": "municipal", "title": "大屏推送测试", "description": "测试"})
                assert created.status_code == 201
                assert await asyncio.wait_for(next_event(), 5) == "figures"
                assert time.monotonic() - started < 5
            live = await client.get("/t/jiaojiang/screen/live", headers={"HX-Request": "true"})
            assert live.status_code == 200 and 'data-figure="reported"' in live.text
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
