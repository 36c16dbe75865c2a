"""The tenant, API tokens and login sessions a request is checked against, kept between requests
(PostgreSQL).

Every request resolves its tenant by slug, and its bearer token or session cookie to a user with
roles: two reads, each a round trip and rows to convert.  Both change rarely, so each process keeps
them, and checks them on every request against a version the database carries:
`tenant.auth_version`, raised by triggers (migrations `2026-12-06T23:30:00`, `2026-12-07T03:20:00`)
in the same transaction as any change that could alter what is kept — the tenant row itself, an API
token's revocation, hash, user or tenant, a login session ended or changed, a membership, or a
user's name, locale, active flag or console right.  A session's expiry is kept with it and checked
on each use.  So a change made by any process, or by hand in the database, is seen by the next
request everywhere.

Why the version is enough: it is read before the token's or session's rows are; a change commits
its rows and its new version at once, so rows read after the version are at least as new as it.
An entry is used only by a request that read the same version.

A kept (active) tenant is not even read first: the request's BEGIN carries a check that the
tenant's version is still the kept one (`begin_check`), in the same round trip, before any other
statement.  If it is not, BEGIN fails with `Stale`, and the request starts again on the tenant
read afresh (`tenant_for(slug, fresh=True)`); nothing has run by then.

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
MAX_ENTRIES = 4096  # tokens and sessions kept per process before the cache starts afresh

_tenants: dict[str, tuple[int, TenantContext]] = {}  # slug → (version, tenant)
_entries: dict[tuple[int, str, str], "Entry"] = {}  # (tenant id, "token" or "session", hash) → entry
_version: ContextVar[tuple[int, int] | None] = ContextVar("qinqing_auth_version", default=None)
# A kept tenant taken without reading it: (id, version) for the request's BEGIN to check.
_unchecked: ContextVar[tuple[int, int] | None] = ContextVar("qinqing_auth_unchecked", default=None)


class Stale(Exception):
    """The kept tenant's version is no longer the database's: read the tenant afresh."""


@dataclass
class Entry:
    """Who holds a token or session, as read at `version`."""

    version: int
    row_id: int
    moment: datetime | None  # a token's last use, a session's expiry
    user: dict[str, Any]
    memberships: list[dict[str, Any]]


def enabled(engine=None) -> bool:
    from core.read_routing import current_route

    return (engine or current_engine()).engine_type == "postgres" and current_route() is None


async def tenant_for(slug: str, fresh: bool = False) -> TenantContext | None:
    """The tenant named `slug` (active or not), as `tenants.registry.load_tenant` gives it; on
    PostgreSQL also notes the tenant's version for this request (see `version`).  An active tenant
    kept here is answered without a read unless `fresh`; the request's BEGIN checks it."""
    from core.tenant_registry import load_tenant

    engine = current_engine()
    _unchecked.set(None)
    if not enabled(engine):
        _version.set(None)
        return await load_tenant(slug)
    kept = _tenants.get(slug)
    if kept is not None and not fresh and kept[1].active:
        _version.set((kept[1].id, kept[0]))
        _unchecked.set((kept[1].id, kept[0]))
        return kept[1]
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


def unchecked() -> bool:
    """Whether this request's tenant was taken as kept and its BEGIN has not checked it yet."""
    return _unchecked.get() is not None


def take_check(tenant_id: int) -> int | None:
    """The kept version of `tenant_id` that this request has still to check against the database,
    taken (the first statement checks it, no other); None when there is none."""
    noted = _unchecked.get()
    if noted is None or noted[0] != tenant_id:
        return None
    _unchecked.set(None)
    return int(noted[1])


def check_sql(tenant_id: str, kept_version: str) -> str:
    """An expression that is 1 while the tenant's version is the kept one, else 0 (its arguments
    are SQL: parameters, or integers written in)."""
    return f"(SELECT count(*)::int FROM tenant WHERE id = {tenant_id} AND auth_version = {kept_version})"


def begin_check(tenant_id: int) -> str:
    """Statements for the BEGIN of `tenant_id`'s first transaction in this request: they fail
    (division by zero, turned into `Stale`) unless the tenant's version is still the kept one."""
    kept_version = take_check(tenant_id)
    if kept_version is None:
        return ""
    return f"; SELECT 1 / {check_sql(str(int(tenant_id)), str(kept_version))}"


def version(tenant_id: int) -> int | None:
    """The version this request read for the tenant, or None when nothing may be kept."""
    noted = _version.get()
    return noted[1] if noted is not None and noted[0] == tenant_id else None


def kept(tenant_id: int, kind: str, key_hash: str, at_version: int) -> Entry | None:
    entry = _entries.get((tenant_id, kind, key_hash))
    return entry if entry is not None and entry.version == at_version else None


def keep(tenant_id: int, kind: str, key_hash: str, entry: Entry) -> None:
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()
    _entries[(tenant_id, kind, key_hash)] = entry


def forget() -> None:
    """Drop everything kept (tests)."""
    _tenants.clear()
    _entries.clear()
