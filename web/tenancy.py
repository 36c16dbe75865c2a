"""Tenant resolution for every request (租户解析), the request transaction, and who is asking.

The outer `HostRewrite` maps `<slug>.<BASE_DOMAIN>` host names onto the `/t/<slug>/` prefix
before routing.  `TenantMiddleware` runs after routing: it finds the tenant named by the
`tenant` path parameter (404 if unknown or inactive), answers 404 for a plugin the tenant has
not enabled, and runs the whole request in one tenant-scoped transaction that commits only if
the response is a success — so a refused request leaves nothing half-stored.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging

from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from core import auth_cache
from core.auth_cache import Stale, tenant_for
from core.db import database_unavailable
from core.errors import UserError
from core.i18n import accepted_locale, current_locale, normalize_locale
from core.identity import user_from_session, user_from_token, write_upkeep
from core.plugins import get_plugin_manager
from tenants.scope import TenantContext, _current, tenant_scope
from web import idempotency
from web.errors import exception_handler, unavailable_response

UNSCOPED_PREFIXES = ("/t/", "/static/", "/healthz", "/readyz", "/metrics", "/schema", "/system/", "/favicon")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def session_cookie_name(slug: str) -> str:
    """The cookie holding a tenant's session key (each tenant its own, so logins do not cross)."""
    return f"qqs_{slug}"


def keep_changes(scope_or_request) -> None:
    """Commit this request's changes even though it answers with an error (e.g. a failed login)."""
    state = scope_or_request["state"] if isinstance(scope_or_request, dict) else scope_or_request.scope["state"]
    state["keep_changes"] = True


class HostRewrite:
    """`luqiao.localhost/x` → `/t/luqiao/x`; also applies security headers to every response."""

    def __init__(self, app: ASGIApp, base_domain: str = "localhost"):
        self.app = app
        self.base_domain = base_domain.lower()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = ""
            for name, value in scope.get("headers", []):
                if name == b"host":
                    host = value.decode("latin-1").split(":")[0].lower()
            suffix = "." + self.base_domain
            if host.endswith(suffix) and not scope["path"].startswith(UNSCOPED_PREFIXES):
                slug = host[: -len(suffix)]
                if slug and "." not in slug:
                    scope = dict(scope)
                    scope["path"] = f"/t/{slug}{scope['path']}"
                    scope["raw_path"] = scope["path"].encode()
                    scope.setdefault("state", {})
                    scope["state"] = {**scope["state"], "host_tenant": slug}
            send = _with_security_headers(send)
            await in_fresh_context(self.app(scope, receive, send))
            return
        await self.app(scope, receive, send)


async def in_fresh_context(request) -> None:
    """Run a request in a context of its own.  Otherwise a keep-alive connection's next request
    can inherit what an earlier one set (its open transaction, its tenant): when uvicorn resumes
    reading a large body it re-registers the socket reader from inside the request's task, and
    asyncio keeps that task's context for the reader's later callbacks, which start the next request."""
    await asyncio.get_running_loop().create_task(request, context=contextvars.Context())


SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     b"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


def _with_security_headers(send: Send) -> Send:
    async def wrapped(message):
        if message["type"] == "http.response.start":
            present = {k.lower() for k, _ in message.get("headers", [])}
            extra = [h for h in SECURITY_HEADERS if h[0] not in present]
            message = {**message, "headers": list(message.get("headers", [])) + extra}
        await send(message)

    return wrapped


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name:
                    return v
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _bearer(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            if kind.lower() == "bearer" and token.strip():
                return token.strip()
    return None


class TenantMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("state", {})
        locale = normalize_locale(_cookie(scope, "lang")) or accepted_locale(_header(scope, b"accept-language")) \
            or "zh_CN"
        locale_token = current_locale.set(locale)
        try:
            slug = scope.get("path_params", {}).get("tenant")
            if scope["type"] != "http" or slug is None:
                await self.app(scope, receive, send)
                return
            try:
                await self._in_tenant(scope, receive, send, slug, fresh=False)
            except Stale:
                # The kept tenant changed: found by the BEGIN, or by a reading scope's first statement
                # or its end.  Nothing was stored or sent (a reading page's answer waits in a buffer):
                # the request runs again with the tenant read afresh.
                ScopeState.from_scope(scope).response_started = False  # the answer put aside had started
                await self._in_tenant(scope, receive, send, slug, fresh=True)
        finally:
            current_locale.reset(locale_token)

    async def _in_tenant(self, scope: Scope, receive: Receive, send: Send, slug: str, fresh: bool) -> None:
        state = scope["state"]
        tenant = await tenant_for(slug, fresh)
        handler = scope.get("route_handler")
        opt = getattr(handler, "opt", {}) or {}
        plugin = opt.get("plugin")
        if tenant is None or not tenant.active or (plugin and not get_plugin_manager().is_enabled(tenant, plugin)):
            if auth_cache.unchecked():  # not found by what was kept: make sure first
                raise Stale(slug)
            from web.errors import not_found_response

            state["tenant"] = tenant if tenant and tenant.active else None
            await not_found_response(scope, unknown_tenant=tenant is None or not tenant.active)(scope, receive, send)
            return
        state["tenant"] = tenant
        state["tenant_root"] = "/" if state.get("host_tenant") == slug else f"/t/{slug}/"
        if opt.get("no_transaction") or opt.get("streams"):  # the handler opens its own transactions
            token = _current.set(tenant)
            try:
                async with tenant_scope(tenant, write=False):
                    await self._authenticate(scope, tenant, api=bool(opt.get("api")))
                await self.app(scope, receive, send)
                await write_upkeep()
            finally:
                _current.reset(token)
            return
        await self._in_transaction(scope, receive, send, tenant, api=bool(opt.get("api")))

    async def _authenticate(self, scope: Scope, tenant: TenantContext, api: bool) -> None:
        state = scope["state"]
        user = None
        if api:
            token = _bearer(scope)
            if token:
                user = await user_from_token(token)
                state["auth_error"] = None if user else "invalid_token"
        else:
            key = _cookie(scope, session_cookie_name(tenant.slug))
            if key:
                user, expired = await user_from_session(key)
                state["session_expired"] = expired
        state["user"] = user
        if user and not _cookie(scope, "lang"):
            current_locale.set(normalize_locale(user.locale) or "zh_CN")

    async def _in_transaction(self, scope, receive, send, tenant, api: bool) -> None:
        buffered: list = []
        status = {"code": 500}

        async def buffer(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            buffered.append(message)

        class _Rollback(Exception):
            pass

        write = scope["method"] not in SAFE_METHODS
        try:
            async with tenant_scope(tenant, write=write):
                await self._authenticate(scope, tenant, api)
                key = idempotency.requested_key(scope) if write and api and scope["state"].get("user") else None
                claim = await idempotency.claim(scope, receive, key, scope["state"]["user"].id) if key else None
                if claim and claim.replay:
                    buffered = claim.replay
                else:
                    await self.app(scope, claim.receive if claim else receive, buffer)
                    if status["code"] >= 400 and not scope["state"].get("keep_changes"):
                        raise _Rollback
                    if claim:
                        await claim.remember(buffered)
        except _Rollback:
            pass
        except UserError as exc:  # a bad Idempotency-Key
            buffered = await _answer(scope, lambda request, error=exc: exception_handler(request, error))
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            # BEGIN or COMMIT could not get the database (SQLite's write lock held past the busy
            # timeout, PostgreSQL restarting): nothing was stored; the client may retry.
            logging.getLogger(__name__).warning("database unavailable on %s %s: %s: %s", scope["method"],
                                                scope["path"], exc.__class__.__name__, exc)
            buffered = await _answer(scope, unavailable_response)
        for message in buffered:
            await send(message)
        await write_upkeep()


async def _answer(scope: Scope, respond) -> list:
    """The ASGI messages of `respond(request)`, an error answered outside the route handler."""
    from litestar import Request

    messages: list = []

    async def collect(message):
        messages.append(message)

    async def no_body():
        return {"type": "http.disconnect"}

    request = Request(scope)
    await respond(request).to_asgi_response(None, request)(scope, no_body, collect)
    return messages
