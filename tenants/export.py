"""`qinqing tenant export SLUG FILE`: everything of one tenant into one archive (租户导出).

Read in one snapshot (a read-only repeatable-read transaction on PostgreSQL, one read
transaction on SQLite) inside the tenant's scope, so row-level security applies as everywhere.
See :mod:`tenants.archive` for the format.
"""

from __future__ import annotations

import importlib.metadata
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path

from core.cases.anchors import published
from core.cases.audit import verify_tenant
from core.config import get_settings
from core.db import current_engine, is_postgres
from core.storage import stored_keys
from core.tables import Membership, User
from core.tenant_links import declared_partners
from tenants.archive import (
    FILE_STORES,
    FORMAT,
    FORMAT_VERSION,
    NOT_CARRIED,
    ArchiveError,
    ArchiveWriter,
    Progress,
    column_names,
    fk_columns,
    tenant_tables,
)
from tenants.registry import load_tenant
from tenants.scope import TenantContext, scoped, tenant_scope
from tenants.tables import Tenant


def _iso(value) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else value


def app_version() -> str:
    try:
        return importlib.metadata.version("qinqing")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@asynccontextmanager
async def _snapshot():
    engine = current_engine()
    async with engine.transaction() as tx:
        if is_postgres(engine):
            await tx.connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


async def export_tenant(slug: str, path: Path, progress: Progress = lambda line: None) -> dict:
    """Write the archive of tenant `slug` to `path`; returns its manifest."""
    tenant = await load_tenant(slug)
    if tenant is None:
        raise ArchiveError(f"no tenant {slug!r}")
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    writer = ArchiveWriter(partial)
    try:
        async with _snapshot(), tenant_scope(tenant, write=False):
            manifest = await _write(tenant, writer, progress)
        manifest["files"] = await _write_files(tenant, writer, progress)
        writer.close(manifest)
    except BaseException:
        writer.abort()
        raise
    partial.replace(path)
    return manifest


async def _write(tenant: TenantContext, writer: ArchiveWriter, progress: Progress) -> dict:
    registry = await Tenant.select().where(Tenant.id == tenant.id).first()
    parent = await Tenant.select(Tenant.slug).where(Tenant.id == registry["parent"]).first() \
        if registry["parent"] else None
    children = [r["slug"] for r in await Tenant.select(Tenant.slug).where(Tenant.parent == tenant.id)]
    counts: dict[str, int] = {}
    columns: dict[str, list[str]] = {}
    user_ids = {r["user"] for r in await scoped(Membership).select(Membership.user)}
    for table in tenant_tables():
        name = table._meta.tablename
        rows = await scoped(table).select().order_by(table._meta.primary_key)
        for row in rows:
            row.pop("tenant_id", None)
        for column in fk_columns(table):
            if column._foreign_key_meta.resolved_references is User:
                user_ids.update(r[column._meta.name] for r in rows if r[column._meta.name] is not None)
        writer.write_rows(name, rows)
        counts[name], columns[name] = len(rows), [c for c in column_names(table) if c != "tenant_id"]
        progress(f"  {name:<24} {len(rows):>7} rows")
    users = await User.select().where(User.id.is_in(sorted(user_ids))).order_by(User.id) if user_ids else []
    writer.write_rows("app_user", users)
    writer.write_rows("tenant", [registry])
    counts.update(app_user=len(users), tenant=1)
    columns.update(app_user=column_names(User), tenant=column_names(Tenant))
    progress(f"  {'app_user':<24} {len(users):>7} rows (users with a membership or named by a row)")
    chain = await verify_tenant()
    anchors = await published()
    if not chain.ok:
        progress(f"warning: the record of {tenant.slug} does not verify ({chain.problem}); "
                 "the archive cannot be imported until it does")
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "app_version": app_version(),
        "source_engine": "postgresql" if is_postgres() else "sqlite",
        "created_at": datetime.now(timezone.utc).isoformat(),
        "slug": tenant.slug,
        "tenant": {"slug": tenant.slug, "name_zh": tenant.name_zh, "name_en": tenant.name_en, "kind": tenant.kind,
                   "parent": parent["slug"] if parent else None, "children": children,
                   # this tenant's own declarations of its links (a court's districts, a district's courts)
                   "links": [{"partner": r["partner"], "declared_at": _iso(r["declared_at"]),
                              "ended_at": _iso(r["ended_at"])} for r in await declared_partners(tenant.id)]},
        "tables": counts, "columns": columns, "not_carried": NOT_CARRIED,
        "audit": {"events": counts.get("case_event", 0), "verified": chain.ok,
                  "anchors": anchors},  # the signed heads as published (anchors.json)
    }


async def _write_files(tenant: TenantContext, writer: ArchiveWriter, progress: Progress) -> dict[str, int]:
    """Attachments from the file store (either: `core.storage`), uploaded imports from the var directory."""
    found: dict[str, int] = {}
    keys = await stored_keys(tenant)
    for key, file_store in keys.items():
        await writer.write_stream(f"files/attachments/{key[:2]}/{key}", await file_store.get(tenant, key))
    found["attachments"] = len(keys)
    progress(f"  files/{'attachments':<18} {len(keys):>7} files")
    for store in FILE_STORES:
        if store == "attachments":
            continue
        root = get_settings().var_dir / store / str(tenant.id)
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
        for file in files:
            writer.write_file(f"files/{store}/{file.relative_to(root).as_posix()}", file)
        found[store] = len(files)
        progress(f"  files/{store:<18} {len(files):>7} files")
    return found
