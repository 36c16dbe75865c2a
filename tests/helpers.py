"""Helpers for tests: a cookie-keeping browser over the ASGI app, and scoped DB access."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager

import httpx

DEMO_PASSWORD = "demo-Pass-2026"
CSRF_RE = re.compile(r'name="csrf-token" content="([^"]*)"')


class Browser:
    def __init__(self, app, host: str = "testserver"):
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{host}")
        self.csrf = ""

    async def get(self, url: str, **kwargs) -> httpx.Response:
        response = await self.client.get(url, **kwargs)
        match = CSRF_RE.search(response.text) if "text/html" in response.headers.get("content-type", "") else None
        if match and match.group(1):
            self.csrf = match.group(1)
        return response

    async def post(self, url: str, data: dict | None = None, csrf: bool = True, htmx: bool = False, **kwargs):
        data = dict(data or {})
        if csrf:
            if not self.csrf:
                await self.get("/healthz")
                await self.get(re.sub(r"^(/t/[^/]+/).*", r"\1login", url) if url.startswith("/t/") else "/")
            data.setdefault("_csrf_token", self.csrf)
        headers = kwargs.pop("headers", {})
        if htmx:
            headers["HX-Request"] = "true"
            headers["X-CSRFToken"] = self.csrf
        return await self.client.post(url, data=data, headers=headers, **kwargs)

    async def login(self, username: str, tenant: str, password: str = DEMO_PASSWORD) -> httpx.Response:
        await self.get(f"/t/{tenant}/login")
        return await self.post(f"/t/{tenant}/login", {"username": username, "password": password})

    async def close(self):
        await self.client.aclose()


@asynccontextmanager
async def in_tenant(slug: str):
    """Enter a tenant's scope directly (for arranging and checking data in tests)."""
    from tenants.registry import load_tenant
    from tenants.scope import tenant_scope

    tenant = await load_tenant(slug)
    async with tenant_scope(tenant):
        yield tenant


async def token_for(username: str, slug: str) -> str:
    from core.tables import User
    from web.identity import create_token

    async with in_tenant(slug):
        user = await User.select(User.id).where(User.username == username).first()
        return await create_token(user["id"], "test")


async def process_background(seconds: float = 30.0) -> None:
    """Run the outbox until every message has been applied: in-process when embedded, through a
    real Dramatiq worker when a broker is configured."""
    import asyncio
    import time

    from core.tables import FailedMessage, OutboxMessage, ProcessedMessage
    from workers import broker as broker_mod
    from workers.relay import drain

    if broker_mod.is_embedded():
        await drain()
        return
    from dramatiq import Worker

    worker = Worker(broker_mod.get_broker(), worker_threads=2)
    worker.start()
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await drain()
            sent = {r["message_id"] for r in await OutboxMessage.select(OutboxMessage.message_id)}
            done = {r["message_id"] for r in await ProcessedMessage.select(ProcessedMessage.message_id)}
            failed = {r["message_id"] for r in await FailedMessage.select(FailedMessage.message_id)}
            if sent <= done | failed and await OutboxMessage.count().where(OutboxMessage.sent_at.is_null()) == 0:
                return
            await asyncio.sleep(0.2)
        raise AssertionError("background work did not finish in time")
    finally:
        worker.stop()
