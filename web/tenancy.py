"""Tenant resolution for every request (租户解析), the request transaction, and who is asking.

The outer `HostRewrite` maps `<slug>.<BASE_DOMAIN>` host names onto the `/t/<slug>/` prefix
before routing.  `TenantMiddleware` runs after routing: it finds the tenant named by the
`tenant` path parameter (404 if unknown or inactive), answers 404 for a plugin the tenant has
not enabled, and runs the whole request in one tenant-scoped transaction that commits only if
the response is a success — so a refused request leaves nothing half-stored.
"""

from __future__ import annotations

from litestar.types import ASGIApp, Receive, Scope, Send

from core.i18n import current_locale, normalize_locale
from core.plugins import get_plugin_manager
from tenants.registry import load_tenant
from tenants.scope import TenantContext, _current, tenant_scope
from web.identity import session_cookie_name, user_from_session, user_from_token

UNSCOPED_PREFIXES = ("/t/", "/static/", "/healthz", "/readyz", "/metrics", "/schema", "/system/", "/favicon")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


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
        await self.app(scope, receive, send)


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
        state = scope.setdefault("state", {})
        locale = normalize_locale(_cookie(scope, "lang")) or "zh_CN"
        locale_token = current_locale.set(locale)
        try:
            slug = scope.get("path_params", {}).get("tenant")
            if scope["type"] != "http" or slug is None:
                await self.app(scope, receive, send)
                return
            tenant = await load_tenant(slug)
            handler = scope.get("route_handler")
            opt = getattr(handler, "opt", {}) or {}
            plugin = opt.get("plugin")
            if tenant is None or not tenant.active or (plugin and not get_plugin_manager().is_enabled(tenant, plugin)):
                from web.errors import not_found_response

                state["tenant"] = tenant if tenant and tenant.active else None
                await not_found_response(scope, unknown_tenant=tenant is None or not tenant.active)(scope, receive, send)
                return
            state["tenant"] = tenant
            state["tenant_root"] = "/" if state.get("host_tenant") == slug else f"/t/{slug}/"
            if opt.get("no_transaction"):
                token = _current.set(tenant)
                try:
                    async with tenant_scope(tenant, write=False):
                        await self._authenticate(scope, tenant, api=bool(opt.get("api")))
                    await self.app(scope, receive, send)
                finally:
                    _current.reset(token)
                return
            await self._in_transaction(scope, receive, send, tenant, api=bool(opt.get("api")))
        finally:
            current_locale.reset(locale_token)

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
                await self.app(scope, receive, buffer)
                if status["code"] >= 400 and not scope["state"].get("keep_changes"):
                    raise _Rollback
        except _Rollback:
            pass
        for message in buffered:
            await send(message)
