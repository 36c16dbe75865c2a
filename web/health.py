"""Liveness (`/healthz`) and readiness (`/readyz`: database and broker reachable)."""

from __future__ import annotations

import asyncio

from litestar import Response, get

from core.tables import OutboxMessage


@get("/healthz", sync_to_thread=False, include_in_schema=False)
def healthz() -> dict:
    return {"status": "ok"}


@get("/readyz", include_in_schema=False)
async def readyz() -> Response:
    from workers.broker import broker_reachable

    checks = {}
    try:
        await asyncio.wait_for(OutboxMessage.count(), timeout=5)  # a server that does not answer is down too
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        checks["database"] = f"error: {exc.__class__.__name__}"
    checks["broker"] = "ok" if await broker_reachable() else "unreachable"
    ready = all(v == "ok" for v in checks.values())
    return Response({"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503)
