"""Which requests read from a replica (只读副本): the one list, and read-your-writes.

With `DATABASE_REPLICA_URLS` set, a GET of a route named in `REPLICA_ROUTES` (or marked
`opt={"reads": "replica"}`) runs inside `core.read_routing.replica_reads()`: its reads go to a
replica that is up and at most `REPLICA_MAX_LAG_SECONDS` behind.  Those are the reads that
tolerate a few seconds of lag — the big screen and its figures, exports, the public page, the
index, Open311's reads, the city league, the console's counts.  Every other request, and every
write, uses the primary.

Read-your-writes: a request that changed something (not GET/HEAD/OPTIONS, answered below 400)
sets the cookie `qinqing_wrote` to its time, and for `READ_YOUR_WRITES_SECONDS` that browser's
requests read the primary.  Clients without cookies (the API, Open311) are covered by the
second rule: an answer from a replica that is 401, 403, 404 or 5xx — a token or row not yet
replayed, a write the standby refused, a replica gone mid-request — is thrown away before
anything is sent and the request runs again on the primary.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from litestar.types import ASGIApp, Receive, Send

from core.config import get_settings
from core.db import current_engine
from core.read_routing import primary_only, replica_reads, routed_engine

log = logging.getLogger("qinqing.replicas")

WROTE_COOKIE = "qinqing_wrote"
# A replica's answers that may only mean it lags: a token, session or membership not replayed yet
# (401, 403), a row not replayed yet (404).  They are dropped and the request runs on the primary.
RERUN_ON_PRIMARY = frozenset({401, 403, 404})
REPLICA_ROUTES = frozenset({
    "screen", "screen_live", "screen_stream", "public", "public_anchors",  # the big screen, the public page
    "export_cases", "export_ranking", "export_index", "export_inspections",  # exports
    "qinqing_index", "city_league",  # the index, the city's league table
    "open311_services", "open311_service", "open311_requests", "open311_request", "open311_token",
    "system_home", "system_tenant",  # the system console's counts
})


def reads_from_replica(scope: Any) -> bool:
    """Whether this request's route tolerates lag (the list above, or the route's own marker)."""
    handler = scope.get("route_handler")
    if handler is None or scope.get("method") not in ("GET", "HEAD"):
        return False
    opt = getattr(handler, "opt", None) or {}
    return opt.get("reads") == "replica" or getattr(handler, "name", None) in REPLICA_ROUTES


def wrote_recently(scope: Any, window: float, now: float) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, raw = part.strip().partition("=")
                if key == WROTE_COOKIE:
                    try:
                        at = float(raw)
                    except ValueError:
                        return False
                    return now - window <= at <= now + 5
    return False


class ReadRouting:
    """ASGI middleware (after routing): puts a request's reads on a replica or the primary."""

    def __init__(self, app: ASGIApp):
        self.app: Any = app

    async def __call__(self, scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or routed_engine(current_engine()) is None:
            await self.app(scope, receive, send)
            return
        window = get_settings().read_your_writes_seconds
        now = time.time()
        if scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, _noting_writes(send, now, window))
            return
        if not reads_from_replica(scope) or wrote_recently(scope, window, now):
            await self.app(scope, receive, send)
            return
        state = dict(scope.get("state", {}))
        decided = {"retry": False, "sent": False}
        with replica_reads() as route:
            async def first_answer(message: Any) -> None:
                if not decided["sent"]:
                    decided["sent"] = True
                    status = message.get("status", 200) if message["type"] == "http.response.start" else 200
                    decided["retry"] = route.used_replica and (status in RERUN_ON_PRIMARY or status >= 500)
                if not decided["retry"]:
                    await send(message)

            try:
                await self.app({**scope, "state": dict(state)}, receive, first_answer)
            except Exception:
                if decided["sent"] or not route.used_replica:
                    raise
                decided["retry"] = True
        if decided["retry"]:
            log.info("answered again from the primary: %s %s", scope["method"], scope["path"])
            with primary_only():
                await self.app({**scope, "state": dict(state)}, _no_body, send)


async def _no_body() -> Any:
    return {"type": "http.request", "body": b"", "more_body": False}


def _noting_writes(send: Send, now: float, window: float) -> Send:
    """`send`, adding the read-your-writes cookie to an answer below 400."""

    async def wrapped(message: Any) -> None:
        if message["type"] == "http.response.start" and message.get("status", 500) < 400:
            cookie = f"{WROTE_COOKIE}={now:.3f}; Max-Age={int(window) + 1}; Path=/; HttpOnly; SameSite=Lax"
            message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())]}
        await send(message)

    return wrapped
