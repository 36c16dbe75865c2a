"""A keep-alive connection carries nothing from one request to the next: after a large body (which
makes uvicorn pause and resume reading), the next request on the same connection still works.
Against a real `qinqing serve` process over TCP."""

import asyncio
import os
import socket
import subprocess
import sys

import httpx

from tests.conftest import ROOT
from tests.helpers import token_for


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_a_large_body_does_not_spoil_the_next_request_on_its_connection():
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port)], cwd=ROOT,
                              env={**os.environ}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)  # every request on one connection
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20, limits=limits) as client:
            for _ in range(150):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
            auth = {"Authorization": f"Bearer {await token_for('company@luqiao', 'luqiao')}"}
            for _ in range(3):
                big = await client.post("/t/luqiao/api/v1/cases", headers=auth, json={
                    "category": "municipal", "title": "大附件", "description": "长" * 1_500_000})
                assert big.status_code == 400, big.text
                after = await client.get("/t/luqiao/api/v1/me", headers=auth)
                assert after.status_code == 200, after.text
                filed = await client.post("/t/luqiao/api/v1/cases", headers=auth, json={
                    "category": "municipal", "title": "同一连接上的下一件", "description": "正常提交"})
                assert filed.status_code == 201, filed.text
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
