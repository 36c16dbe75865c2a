"""CSRF tokens bound to the session (会话绑定的 CSRF 令牌).

Litestar's own CSRF check is a double-submit cookie: any token that matches the `csrftoken`
cookie passes, whoever's session it is.  Someone able to plant that cookie in another browser
(a sibling subdomain can) could then post with a token of their own.  Here the cookie only holds
a random, signed nonce; the token the pages carry (meta tag for htmx, hidden `_csrf_token` field
for forms) is an HMAC of that nonce *and* of the session cookie the request belongs to — the
tenant's `qqs_<slug>` under `/t/<slug>/`, the console's `qqs__system` under `/system/`.  Before a
session exists (the login pages) it is bound to the nonce alone, the pre-session cookie.  So a
token from one session, or from the anonymous page before login, is refused on another session.

Safe methods only mint the token for the page; other methods must carry the token of this
request's own cookies (header `X-CSRFToken` or form field `_csrf_token`), else 403.
"""

from __future__ import annotations

import hashlib
import hmac
from secrets import compare_digest
from typing import Any

from litestar.config.csrf import CSRFConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.datastructures.cookie import Cookie
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware._utils import should_bypass_middleware
from litestar.middleware.csrf import CSRFMiddleware, generate_csrf_token
from litestar.types import Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

SYSTEM_PREFIX = "/system/"
SYSTEM_COOKIE = "qqs__system"  # web.system_auth.SYSTEM_COOKIE (not imported: csrf stays free of the console)


def session_cookie_for(scope: Scope) -> str | None:
    """The name of the session cookie a request to this route belongs to, if any."""
    path = scope.get("path", "")
    if path == SYSTEM_PREFIX.rstrip("/") or path.startswith(SYSTEM_PREFIX):  # Litestar gives "/system/" as "/system"
        return SYSTEM_COOKIE
    slug = (scope.get("path_params") or {}).get("tenant")
    return f"qqs_{slug}" if slug else None


def bound_token(secret: str, nonce: str, session_key: str | None) -> str:
    """The token for the pre-session `nonce` and the session cookie value (None: no session yet)."""
    session = hashlib.sha256(session_key.encode()).hexdigest() if session_key else ""
    return hmac.new(secret.encode(), f"csrf\x00{nonce}\x00{session}".encode(), hashlib.sha256).hexdigest()


class SessionCSRFMiddleware(CSRFMiddleware):
    """Litestar's CSRF middleware with the token bound to the session (see the module docstring)."""

    def __init__(self, app, config: CSRFConfig) -> None:
        super().__init__(app, config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or should_bypass_middleware(
            scope=scope, scopes=self.scopes, exclude_opt_key=self.config.exclude_from_csrf_key,
            exclude_path_pattern=self.exclude,
        ):
            await self.app(scope, receive, send)
            return
        request: Any = scope["litestar_app"].request_class(scope=scope, receive=receive)
        cookie = request.cookies.get(self.config.cookie_name)
        nonce = cookie if cookie and self._decode_csrf_token(cookie) is not None else None
        session_name = session_cookie_for(scope)
        session_key = request.cookies.get(session_name) if session_name else None
        state = ScopeState.from_scope(scope)
        if request.method in self.config.safe_methods:
            fresh = nonce is None
            if fresh:
                nonce = generate_csrf_token(secret=self.config.secret)
            state.csrf_token = bound_token(self.config.secret, nonce, session_key)
            await self.app(scope, receive, self._with_cookie(send, nonce) if fresh else send)
            return
        submitted = request.headers.get(self.config.header_name)
        content_type, _ = request.content_type
        if not submitted and content_type in {RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART}:
            submitted = (await request.form()).get("_csrf_token")
        if not (nonce and isinstance(submitted, str) and submitted
                and compare_digest(submitted, bound_token(self.config.secret, nonce, session_key))):
            raise PermissionDeniedException("CSRF token verification failed")
        state.csrf_token = submitted
        await self.app(scope, receive, send)

    def _with_cookie(self, send: Send, nonce: str) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableScopeHeaders.from_message(message)
                headers.add("set-cookie", Cookie(
                    key=self.config.cookie_name, value=nonce, path=self.config.cookie_path,
                    secure=self.config.cookie_secure, httponly=self.config.cookie_httponly,
                    samesite=self.config.cookie_samesite, domain=self.config.cookie_domain).to_header(header=""))
            await send(message)

        return wrapped


def csrf_config_of(app) -> CSRFConfig | None:
    """The session-bound CSRF configuration of an app (its ASGI wrappers unwrapped), for checks."""
    from litestar import Litestar
    from litestar.middleware import DefineMiddleware

    while app is not None and not isinstance(app, Litestar):
        app = getattr(app, "app", None)
    for middleware in getattr(app, "middleware", []):
        if isinstance(middleware, DefineMiddleware) and middleware.middleware is SessionCSRFMiddleware:
            return middleware.kwargs["config"]
    return None
