"""`qinqing tenant import FILE`: restore a tenant archive into this installation (租户导入).

All or nothing: the archive's checksums are checked first; then, in one transaction, the tenant,
its users and every table are inserted in foreign-key order under new ids (the target's own rows
keep theirs), the record is verified and every count compared — any failure rolls everything
back and removes the files written.

- Ids: every row gets a new id, reserved from the table's sequence on PostgreSQL (so the
  sequences are already past them) or after the largest id on SQLite (whose write transaction
  holds the lock); foreign keys, self references (in a second pass) and ids inside text
  columns (:mod:`tenants.archive_refs`) follow.
- The record: events are inserted unchanged, hashes included, and one import record joins the
  chain mapping the new ids to those the events were hashed with (:mod:`core.cases.audit`), so
  `qinqing audit verify` passes and the chain's history stays the source's, byte for byte.
- Users: a username that already exists here is linked, not overwritten (its password and
  profile stay as they are; it is reported); a new user keeps its password hash.  The
  system-console flag is never carried: a system administrator there is not one here.
- The registry: a slug that exists is refused.  The parent district is linked by slug; when it is
  not here the tenant is imported without a parent (a warning) and linked when the district is
  imported later, as are townships already here whose parent was this tenant.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from piccolo.columns import ForeignKey
from piccolo.table import Table

from core.cases.audit import append_import_record, verify_tenant
from core.clock import as_utc, now
from core.config import get_settings
from core.db import is_postgres, write_transaction
from core.storage import LocalStore, file_store, is_key
from core.tables import User
from core.tenant_links import TenantLink
from tenants.archive import (
    FILE_STORES,
    ArchiveError,
    ArchiveReader,
    Progress,
    decode,
    refers_to,
    self_references,
    tenant_tables,
)
from tenants.archive_refs import renumber
from tenants.scope import TenantContext, scoped, tenant_scope
from tenants.tables import Tenant

BATCH = 200
NOT_CARRIED_COLUMNS = {"app_user": {"is_system_admin": False}}


@dataclass
class ImportReport:
    slug: str
    tenant_id: int
    counts: dict[str, int] = field(default_factory=dict)
    linked_users: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: int = 0


async def import_tenant(path: Path, progress: Progress = lambda line: None) -> ImportReport:
    reader = ArchiveReader(Path(path))
    try:
        manifest = reader.verify()
        try:
            tables = _check_schema(manifest)
            slug = manifest["tenant"]["slug"]
            if await Tenant.exists().where(Tenant.slug == slug):
                raise ArchiveError(f"a tenant with slug {slug!r} already exists")
            data = _load(reader, manifest, tables)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ArchiveError(f"the archive is inconsistent ({exc.__class__.__name__}: {exc})") from None
        importer = _Importer(reader, manifest, data, progress)
        try:
            async with write_transaction():
                return await importer.run(tables)
        except ArchiveError:
            importer.remove_files()
            raise
        except Exception as exc:  # noqa: BLE001 - a refused insert is reported in one line, nothing kept
            importer.remove_files()
            raise ArchiveError(f"the archive could not be imported ({exc.__class__.__name__}: {exc})") from None
    finally:
        reader.close()


def _check_schema(manifest: dict) -> list[type[Table]]:
    """The tables to fill, in foreign-key order; refuses an archive this installation cannot hold."""
    here = {t._meta.tablename: t for t in tenant_tables()}
    here.update(tenant=Tenant, app_user=User)
    for name, columns in manifest["columns"].items():
        if name not in here:
            raise ArchiveError(f"the archive has table {name}, which this installation does not have "
                               "(is its plugin installed and migrated?)")
        known = {c._meta.name for c in here[name]._meta.columns} | set(NOT_CARRIED_COLUMNS.get(name, {}))
        missing = sorted(set(columns) - known)
        if missing:
            raise ArchiveError(f"the archive has column {name}.{missing[0]}, which this installation does not "
                               "have; upgrade it first")
    return [t for t in tenant_tables() if t._meta.tablename in manifest["tables"]]


def _load(reader: ArchiveReader, manifest: dict, tables: list[type[Table]]) -> dict[str, list[dict]]:
    data = {}
    for name in ["tenant", "app_user", *(t._meta.tablename for t in tables)]:
        data[name] = list(reader.rows(name))
        if len(data[name]) != manifest["tables"][name]:
            raise ArchiveError(f"the archive is inconsistent: {name} has {len(data[name])} rows, its manifest says "
                               f"{manifest['tables'][name]}")
    if len(data["tenant"]) != 1:
        raise ArchiveError("the archive is inconsistent: it must hold exactly one tenant")
    return data


async def _new_ids(table: type[Table], count: int) -> list[int]:
    """`count` fresh ids of `table`, increasing."""
    if not count:
        return []
    name = table._meta.tablename
    if is_postgres():
        rows = await table.raw("SELECT nextval(pg_get_serial_sequence({}::text, 'id')) AS id "
                               "FROM generate_series(1, {}::integer)", f'"{name}"', count)
        return sorted(r["id"] for r in rows)
    rows = await table.raw(f'SELECT max("id") AS top FROM "{name}"')
    start = (rows[0]["top"] or 0) + 1
    return list(range(start, start + count))


class _Importer:
    def __init__(self, reader: ArchiveReader, manifest: dict, data: dict[str, list[dict]], progress: Progress):
        self.reader, self.manifest, self.data, self.progress = reader, manifest, data, progress
        self.maps: dict[str, dict[int, int]] = {}
        self.written: list[Path] = []
        self.report: ImportReport | None = None

    def remap(self, table: str, old: Any) -> int | None:
        return None if old is None else self.maps.get(table, {}).get(old)

    async def run(self, tables: list[type[Table]]) -> ImportReport:
        source = self.data["tenant"][0]
        slug = source["slug"]
        if await Tenant.exists().where(Tenant.slug == slug):
            raise ArchiveError(f"a tenant with slug {slug!r} already exists")
        tenant_id = (await _new_ids(Tenant, 1))[0]
        self.maps["tenant"] = {source["id"]: tenant_id}
        self.report = report = ImportReport(slug=slug, tenant_id=tenant_id)
        for table in tables:
            olds = sorted(r["id"] for r in self.data[table._meta.tablename])
            self.maps[table._meta.tablename] = dict(zip(olds, await _new_ids(table, len(olds))))
        await self._users()
        tenant = await self._tenant(source, tenant_id)
        async with tenant_scope(tenant):
            for table in tables:
                await self._table(table)
            await self._files(tenant)
            await self._record(source)
            chain = await verify_tenant()
            if not chain.ok:
                raise ArchiveError(f"the imported record of {slug} does not verify ({chain.problem})")
            for table in tables:
                name = table._meta.tablename
                expected = self.manifest["tables"][name] + (1 if name == "case_event" else 0)
                found = await scoped(table).count()
                if found != expected:
                    raise ArchiveError(f"{name}: {found} rows after import, expected {expected}")
                report.counts[name] = found
        report.counts.update(tenant=1, app_user=len(self.data["app_user"]))
        return report

    async def _users(self) -> None:
        rows = self.data["app_user"]
        names = [r["username"] for r in rows]
        existing = {r["username"]: r["id"] for r in await User.select(User.id, User.username).where(
            User.username.is_in(names))} if names else {}
        fresh = [r for r in rows if r["username"] not in existing]
        ids = dict(zip(sorted(r["id"] for r in fresh), await _new_ids(User, len(fresh))))
        self.maps["app_user"] = {r["id"]: existing.get(r["username"]) or ids[r["id"]] for r in rows}
        self.report.linked_users = sorted(existing)
        await self._insert(User, [self._values(User, r) for r in fresh], scoped_insert=False)
        self.progress(f"  {'app_user':<24} {len(fresh):>7} new, {len(existing)} linked to existing users")

    async def _tenant(self, source: dict, tenant_id: int) -> TenantContext:
        info = self.manifest["tenant"]
        values = self._values(Tenant, {k: v for k, v in source.items() if k != "parent"})
        values["parent"] = None
        if info.get("parent"):
            parent = await Tenant.select(Tenant.id).where(Tenant.slug == info["parent"]).first()
            if parent:
                values["parent"] = parent["id"]
            else:
                self.report.warnings.append(f"parent district {info['parent']!r} is not in this installation: "
                                            f"{info['slug']} is imported without a parent (linked when it is imported)")
        await Tenant.insert(Tenant(**values))
        children = info.get("children") or []
        if children:
            relinked = await Tenant.update({Tenant.parent: tenant_id}).where(
                Tenant.slug.is_in(children) & Tenant.parent.is_null()).returning(Tenant.slug)
            for row in relinked:
                self.report.warnings.append(f"township {row['slug']} is linked to its district {info['slug']} again")
        await self._links(info, tenant_id)
        self.progress(f"  {'tenant':<24} {info['slug']} (id {tenant_id})")
        return TenantContext.from_row(await Tenant.select().where(Tenant.id == tenant_id).first())

    async def _links(self, info: dict, tenant_id: int) -> None:
        """The tenant's own declarations of its links, as they were; a link is active only while the
        partner is here and declares it too, so one to a missing tenant comes in inactive."""
        for link in info.get("links") or []:
            partner = str(link.get("partner") or "")
            if not partner:
                continue
            await TenantLink.insert(TenantLink(tenant=tenant_id, partner=partner,
                                               declared_at=as_utc(link.get("declared_at")) or now(),
                                               ended_at=as_utc(link.get("ended_at"))))
            if link.get("ended_at"):
                continue
            other = await Tenant.select(Tenant.id).where(Tenant.slug == partner).first()
            if other is None:
                self.report.warnings.append(f"link to {partner!r} imported inactive: no tenant {partner!r} in this "
                                            f"installation (active once it is here and declares the link too)")
            elif not await TenantLink.exists().where((TenantLink.partner == info["slug"]) & (
                    TenantLink.tenant == other["id"]) & TenantLink.ended_at.is_null()):
                self.report.warnings.append(f"link to {partner!r} imported inactive until {partner!r} declares it too")

    def _values(self, table: type[Table], row: dict) -> dict:
        """A row of the archive as column values of this installation, ids renumbered."""
        name = table._meta.tablename
        values = {}
        for column in table._meta.columns:
            key = column._meta.name
            if key == "tenant_id" or key not in row:
                continue
            value = row[key]
            if column is table._meta.primary_key:
                values[key] = self.maps[name][value]
            elif isinstance(column, ForeignKey):
                values[key] = self._reference(name, column, value)
            else:
                values[key] = decode(column, value)
        values.update({k: v for k, v in NOT_CARRIED_COLUMNS.get(name, {}).items() if hasattr(table, k)})
        renumber(name, values, self.remap)
        return values

    def _reference(self, table: str, column: ForeignKey, value: Any) -> int | None:
        if value is None:
            return None
        target = refers_to(column)
        new = self.remap(target, value)
        if new is None:
            if not column._meta.null:
                raise ArchiveError(f"the archive is inconsistent: {table}.{column._meta.name} refers to "
                                   f"{target} {value}, which it does not hold")
            self.report.warnings.append(f"{table}.{column._meta.name}: {target} {value} is not in the archive; "
                                        "left empty")
        return new

    async def _table(self, table: type[Table]) -> None:
        name = table._meta.tablename
        later = self_references(table)
        rows, deferred = [], []
        for row in self.data[name]:
            values = self._values(table, row)
            for key in later:
                if values.get(key) is not None:
                    deferred.append((values["id"], key, values.pop(key)))
            rows.append(values)
        await self._insert(table, rows)
        for row_id, key, value in deferred:
            await scoped(table).update({getattr(table, key): value}).where(table._meta.primary_key == row_id)
        self.progress(f"  {name:<24} {len(rows):>7} rows")

    @staticmethod
    async def _insert(table: type[Table], rows: list[dict], scoped_insert: bool = True) -> None:
        it = iter(rows)
        while batch := list(itertools.islice(it, BATCH)):
            if scoped_insert:
                await scoped(table).insert(*batch)
            else:
                await table.insert(*(table(**values) for values in batch))

    async def _files(self, tenant: TenantContext) -> None:
        """Attachments into the configured file store (in this transaction when it is the
        database), uploaded imports into the var directory."""
        var_dir, attachments, count = get_settings().var_dir, file_store(), 0
        for name in self.reader.files:
            _, store, *rest = PurePosixPath(name).parts
            if store not in FILE_STORES or not rest:
                raise ArchiveError(f"the archive has a file outside the known stores: {name}")
            if store == "attachments":
                key = rest[-1]
                if len(rest) != 2 or rest[0] != key[:2] or not is_key(key):
                    raise ArchiveError(f"the archive has an attachment under an odd name: {name}")
                with self.reader.open(name) as member:
                    await attachments.put(tenant, key, member)
                if isinstance(attachments, LocalStore):
                    self.written.append(attachments.path(tenant, key))
                count += 1
                continue
            target = var_dir / store / str(tenant.id) / Path(*rest)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.reader.read(name))
            self.written.append(target)
            count += 1
        self.report.files = count
        self.progress(f"  {'files':<24} {count:>7} files")

    def remove_files(self) -> None:
        for path in self.written:
            path.unlink(missing_ok=True)

    async def _record(self, source: dict) -> None:
        events = self.data.get("case_event", [])
        cases = {self.remap("case_file", e["case"]): e["case"] for e in events if e.get("case") is not None}
        users = {self.remap("app_user", e["actor"]): e["actor"] for e in events if e.get("actor") is not None}
        await append_import_record(source["id"], cases, users, source={
            "slug": source["slug"], "engine": self.manifest["source_engine"],
            "exported_at": self.manifest["created_at"], "app_version": self.manifest["app_version"],
        })
