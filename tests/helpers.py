"""Helpers for tests: a cookie-keeping browser over the ASGI app, and scoped DB access."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager

import httpx

DEMO_PASSWORD = "demo-Pass-2026"
CSRF_RE = re.compile(r'name="csrf-token" content="([^"]*)"')


def _area(url: str) -> str:
    """Which session a URL belongs to (a tenant's, the console's, or none): CSRF tokens are bound to it."""
    match = re.match(r"^(?:https?://[^/]+)?(/t/[^/]+/|/system/)", url)
    return match.group(1) if match else ""


class Browser:
    """Keeps cookies, and the CSRF token of each session it has seen a page of (a token is bound to
    the session cookie of its tenant or of the console, so it is re-read from a page after a login
    or logout, as a browser would after following the redirect)."""

    def __init__(self, app, host: str = "testserver"):
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{host}")
        self.tokens: dict[str, str] = {}
        self.csrf = ""  # the token of the page seen last

    async def get(self, url: str, **kwargs) -> httpx.Response:
        response = await self.client.get(url, **kwargs)
        self._read_token(str(response.request.url.path) if response.request else url, response)
        return response

    def _read_token(self, url: str, response: httpx.Response) -> None:
        match = CSRF_RE.search(response.text) if "text/html" in response.headers.get("content-type", "") else None
        if match and match.group(1):
            self.csrf = self.tokens[_area(url)] = match.group(1)

    def token_for(self, url: str) -> str:
        return self.tokens.get(_area(url), "")

    async def _fresh_token(self, url: str) -> str:
        area = _area(url)
        if not self.tokens.get(area):
            await self.get("/healthz")
            await self.get(area + "login" if area else "/")
        return self.tokens.get(area) or self.csrf

    async def post(self, url: str, data: dict | None = None, csrf: bool = True, htmx: bool = False, **kwargs):
        data = dict(data or {})
        headers = kwargs.pop("headers", {})
        if csrf:
            token = await self._fresh_token(url)
            data.setdefault("_csrf_token", token)
            if htmx:
                headers["X-CSRFToken"] = token
        if htmx:
            headers["HX-Request"] = "true"
        response = await self.client.post(url, data=data, headers=headers, **kwargs)
        self._read_token(url, response)
        if any(c.lstrip().startswith("qqs_") for c in response.headers.get_list("set-cookie")):
            self.tokens.pop(_area(url), None)  # a new session (or none): its pages carry a new token
            area = _area(url)
            await self.get(area + "login" if area else "/")
        return response

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
    from core.identity import create_token
    from core.tables import User

    async with in_tenant(slug):
        user = await User.select(User.id).where(User.username == username).first()
        return await create_token(user["id"], "test")


async def skip_outbox() -> None:
    """Mark every message not yet sent as sent and applied, without applying it: for a module that
    queues thousands of notifications no test reads (delivering them took 100 s on SQLite)."""
    from core.clock import now
    from core.tables import OutboxMessage, ProcessedMessage

    pending = await OutboxMessage.select(OutboxMessage.message_id, OutboxMessage.actor).where(
        OutboxMessage.sent_at.is_null())
    for start in range(0, len(pending), 500):
        chunk = pending[start:start + 500]
        await ProcessedMessage.insert(*(ProcessedMessage(message_id=m["message_id"], actor=m["actor"])
                                        for m in chunk))
        await OutboxMessage.update({OutboxMessage.sent_at: now()}).where(
            OutboxMessage.message_id.is_in([m["message_id"] for m in chunk]))


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
