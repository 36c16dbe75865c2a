"""Prometheus metrics (`/metrics`, 运行指标) and the per-request id and access log.

Only counts leave here: requests and latency per route template, outbox and queue depth, failed
messages, and cases per state per tenant slug — never a name, a text or an id of a tenant's data.
With several web processes (`qinqing serve --workers N`) the counters are aggregated through
prometheus_client's multiprocess mode (`PROMETHEUS_MULTIPROC_DIR`, set by `qinqing serve`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from dataclasses import dataclass

from litestar import Request, Response, get
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from core.observability import log_tenant, new_request_id, request_id

log = logging.getLogger("qinqing.access")

REQUESTS = Counter("qinqing_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram("qinqing_http_request_duration_seconds", "Time to answer an HTTP request", ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.08, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10))
HOLDER_KEY = "qinqing.observed"
CASE_COUNT_TTL = 10.0


@dataclass
class Observed:
    """What the inner app learns about a request, for the outer wrapper to report."""

    route: str = "unmatched"
    tenant: str | None = None


class Observability:
    """Outermost ASGI wrapper: request id (header in, header out), access log line, metrics."""

    def __init__(self, app: ASGIApp):
        self.app = app

    def __getattr__(self, name):  # reads through to the wrapped application (`.routes`, …)
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"x-request-id"), None)
        rid = new_request_id(offered)
        observed = Observed()
        scope[HOLDER_KEY] = observed
        token = request_id.set(rid)
        status = 500
        started = time.perf_counter()

        async def sending(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            elapsed = time.perf_counter() - started
            method = scope.get("method", "GET")
            if observed.route != "/metrics":
                REQUESTS.labels(method, observed.route, str(status)).inc()
                LATENCY.labels(method, observed.route).observe(elapsed)
            log.info("request", extra={"method": method, "path": scope.get("path"), "route": observed.route,
                                       "status": status, "duration_ms": round(elapsed * 1000, 1),
                                       "tenant": observed.tenant})
            request_id.reset(token)


class RouteLabel(ASGIMiddleware):
    """Runs after routing: records the route template and tenant slug for the outer wrapper, and
    puts the tenant on this request's log records."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        observed = scope.get(HOLDER_KEY)
        tenant = (scope.get("path_params") or {}).get("tenant")
        if observed is not None:
            observed.route = scope.get("path_template") or observed.route
            observed.tenant = tenant
        token = log_tenant.set(tenant)
        try:
            await next_app(scope, receive, send)
        finally:
            log_tenant.reset(token)


_case_counts: tuple[float, dict[tuple[str, str], int]] = (0.0, {})


async def _cases_by_state() -> dict[tuple[str, str], int]:
    """Cases per (tenant slug, state), each tenant read in its own scope; cached briefly."""
    global _case_counts
    if time.monotonic() - _case_counts[0] < CASE_COUNT_TTL:
        return _case_counts[1]
    from piccolo.query.functions.aggregate import Count

    from core.cases.tables import Case
    from tenants.registry import all_tenants
    from tenants.scope import scoped, tenant_scope

    counts = {}
    for tenant in await all_tenants():
        async with tenant_scope(tenant, write=False):
            rows = await scoped(Case).select(Case.status, Count(alias="n")).group_by(Case.status)
        for row in rows:
            counts[(tenant.slug, row["status"])] = row["n"]
    _case_counts = (time.monotonic(), counts)
    return counts


async def _state_registry() -> CollectorRegistry:
    """Gauges read from the database and broker at scrape time."""
    from core.clock import now
    from core.tables import FailedMessage, OutboxMessage
    from workers.broker import get_broker, is_embedded, queue_length

    registry = CollectorRegistry()
    pending = OutboxMessage.sent_at.is_null()
    Gauge("qinqing_outbox_pending", "Outbox messages not yet handed to the broker",
          registry=registry).set(await OutboxMessage.count().where(pending))
    oldest = await OutboxMessage.select(OutboxMessage.created_at).where(pending).order_by(
        OutboxMessage.created_at).first()
    Gauge("qinqing_outbox_oldest_pending_seconds", "Age of the oldest message waiting in the outbox",
          registry=registry).set((now() - oldest["created_at"]).total_seconds() if oldest else 0)
    Gauge("qinqing_failed_messages", "Messages whose job failed for good, awaiting a retry",
          registry=registry).set(await FailedMessage.count())
    queue = Gauge("qinqing_queue_messages", "Messages waiting in the broker queue", ["broker"], registry=registry)
    if is_embedded():
        queue.labels("embedded").set(0)
    else:
        length = await asyncio.to_thread(queue_length, get_broker())
        if length is not None:
            queue.labels(type(get_broker()).__name__).set(length)
    cases = Gauge("qinqing_cases", "Cases per tenant and state", ["tenant", "state"], registry=registry)
    for (slug, state), n in (await _cases_by_state()).items():
        cases.labels(slug, state).set(n)
    return registry


def _process_registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


@get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text format; protected by a bearer token when METRICS_TOKEN is set."""
    expected = os.environ.get("METRICS_TOKEN")
    if expected:
        offered = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not secrets.compare_digest(offered.encode(), expected.encode()):
            return Response("forbidden\n", status_code=403, media_type="text/plain")
    body = generate_latest(_process_registry()) + generate_latest(await _state_registry())
    return Response(body, media_type=CONTENT_TYPE_LATEST)
