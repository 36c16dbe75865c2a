"""The tenant and the API tokens a request is checked against, kept between requests (PostgreSQL).

Every API request resolves its tenant by slug and its bearer token to a user with roles: two reads,
each a round trip and rows to convert.  Both change rarely, so each process keeps them, and checks
them on every request against a version the database carries: `tenant.auth_version`, raised by
triggers (migration `2026-12-06T23:30:00`) in the same transaction as any change that could alter
what is kept — the tenant row itself, an API token's revocation, hash, user or tenant, a membership,
or a user's name, locale, active flag or console right.  So a change made by any process, or by
hand in the database, is seen by the next request everywhere.

Why the version is enough: it is read (with the tenant row, in one statement) before the token's
rows are; a change commits its rows and its new version at once, so rows read after the version
are at least as new as it.  An entry is used only by a request that read the same version.

Nothing is kept on SQLite (no triggers there, and no round trips to save), nor while a request
reads from a replica (its rows may be older than the primary's version).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.db import current_engine
from core.tenant_context import TenantContext

# The tenant row and its version in one statement (the primary's; see `tenant_for`).
_TENANT_SQL = ("SELECT id, slug, name_zh, name_en, kind, parent, plugins, settings, active, auth_version "
               "FROM tenant WHERE slug = $1")
MAX_TOKENS = 4096  # entries kept per process before the cache starts afresh

_tenants: dict[str, tuple[int, TenantContext]] = {}  # slug → (version, tenant)
_tokens: dict[tuple[int, str], "TokenEntry"] = {}  # (tenant id, token hash) → entry
_version: ContextVar[tuple[int, int] | None] = ContextVar("qinqing_auth_version", default=None)


@dataclass
class TokenEntry:
    version: int
    token_id: int
    last_used_at: datetime | None
    user: dict[str, Any]
    memberships: list[dict[str, Any]]


def enabled(engine=None) -> bool:
    from core.read_routing import current_route

    return (engine or current_engine()).engine_type == "postgres" and current_route() is None


async def tenant_for(slug: str) -> TenantContext | None:
    """The tenant named `slug` (active or not), as `tenants.registry.load_tenant` gives it; on
    PostgreSQL also notes the tenant's version for this request (see `version`)."""
    from core.tenant_registry import load_tenant

    engine = current_engine()
    if not enabled(engine):
        _version.set(None)
        return await load_tenant(slug)
    row = await _tenant_row(engine, slug)
    if row is None:
        _version.set(None)
        return None
    version = row["auth_version"]
    kept = _tenants.get(slug)
    if kept is not None and kept[0] == version and kept[1].id == row["id"]:
        tenant = kept[1]
    else:
        tenant = TenantContext.from_row(dict(row))
        _tenants[slug] = (version, tenant)
    _version.set((tenant.id, version))
    return tenant


async def _tenant_row(engine, slug: str):
    pool = getattr(engine, "pool", None)
    if pool is None:  # no pool (a command, a test without the lifespan): through Piccolo
        rows = await engine.run_querystring(_querystring(slug))
        return rows[0] if rows else None
    async with pool.acquire() as connection:
        return await connection.fetchrow(_TENANT_SQL, slug)


def _querystring(slug: str):
    from core.piccolo_private import frozen_querystring
    from core.tenant_registry import Tenant

    return frozen_querystring(_TENANT_SQL, [slug], "select", Tenant)


def version(tenant_id: int) -> int | None:
    """The version this request read for the tenant, or None when nothing may be kept."""
    noted = _version.get()
    return noted[1] if noted is not None and noted[0] == tenant_id else None


def token(tenant_id: int, token_hash: str, at_version: int) -> TokenEntry | None:
    entry = _tokens.get((tenant_id, token_hash))
    return entry if entry is not None and entry.version == at_version else None


def keep_token(tenant_id: int, token_hash: str, entry: TokenEntry) -> None:
    if len(_tokens) >= MAX_TOKENS:
        _tokens.clear()
    _tokens[(tenant_id, token_hash)] = entry


def forget() -> None:
    """Drop everything kept (tests)."""
    _tenants.clear()
    _tokens.clear()
