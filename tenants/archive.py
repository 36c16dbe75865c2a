"""The tenant archive (租户导出包): one zip holding everything of one tenant, for moving a district
or township to another installation (`qinqing tenant export` / `tenant import`).

Members: ``manifest.json`` (format version, source engine, slug, per-table row counts and
columns, creation time, app version), ``tables/<table>.jsonl`` (one JSON object per row, columns
by name, in primary-key order), ``files/<store>/<path>`` (attachments, read from and written to the
file store of ``core.storage`` whichever it is — the database store's ``file_chunk`` rows travel
as these files, not as a table — and uploaded imports), and
``SHA256SUMS`` (``sha256sum -c`` format) covering every other member, checked before anything is
read.

The tables are found, not listed: every Piccolo table of every registered app (core, tenants,
plugins) with a ``tenant_id``, except the system tables (IDs only, read across tenants), login
sessions and API tokens (bearer credentials of one installation: re-issue them on the target).
Users are global; the archive carries those with a membership in the tenant or referred to by
one of its rows, password hashes included.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
import zipfile
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import IO, Any, AsyncIterator, Callable, Iterable, Iterator

from piccolo.columns import (
    JSON,
    UUID,
    Boolean,
    Bytea,
    Date,
    ForeignKey,
    Interval,
    Numeric,
    Time,
    Timestamp,
    Timestamptz,
)
from piccolo.columns.base import Column
from piccolo.table import Table

FORMAT = "qinqing-tenant-archive"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
NOT_CARRIED = {"web_session": "login sessions", "api_token": "API tokens (bearer credentials; re-issue them)"}
FILE_STORES = ("attachments", "imports")  # files/attachments/<key[:2]>/<key> (core.storage); <var>/imports/<tenant id>/…
AS_FILES = {"file_chunk"}  # the database store's table: its files are carried under files/attachments/

Progress = Callable[[str], None]


class ArchiveError(Exception):
    """The archive cannot be written or imported; the message is one line and says why."""


# -- which tables ---------------------------------------------------------------------------------

def refers_to(column: ForeignKey) -> str:
    return column._foreign_key_meta.resolved_references._meta.tablename


def fk_columns(table: type[Table]) -> list[ForeignKey]:
    return [c for c in table._meta.foreign_key_columns if c._meta.name != "tenant_id"]


def tenant_tables() -> list[type[Table]]:
    """Every carried tenant table, parents before children (foreign-key order)."""
    from piccolo.conf.apps import Finder

    from core.tables import SYSTEM_TABLES
    from tenants.scope import is_tenant_owned

    found = {t._meta.tablename: t for t in Finder().get_table_classes()
             if is_tenant_owned(t) and t._meta.tablename not in SYSTEM_TABLES | set(NOT_CARRIED) | AS_FILES}
    deps: dict[str, set[str]] = {}
    for name, table in found.items():
        deps[name] = set()
        for column in fk_columns(table):
            target = refers_to(column)
            if target in ("tenant", "app_user") or target == name:
                continue
            if target not in found:
                raise ArchiveError(f"table {name}.{column._meta.name} refers to {target}, which is not carried")
            deps[name].add(target)
    ordered: list[type[Table]] = []
    while deps:
        ready = sorted(n for n, d in deps.items() if not d)
        if not ready:
            raise ArchiveError(f"the foreign keys of {', '.join(sorted(deps))} form a cycle")
        for name in ready:
            ordered.append(found[name])
            del deps[name]
        for d in deps.values():
            d.difference_update(ready)
    return ordered


def self_references(table: type[Table]) -> list[str]:
    return [c._meta.name for c in fk_columns(table) if refers_to(c) == table._meta.tablename]


# -- values across engines --------------------------------------------------------------------------

def encode(value: Any) -> Any:
    """A column value as JSON: timestamps in UTC ISO 8601, dates ISO, decimals as strings."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime):
        return (value.astimezone(timezone.utc) if value.tzinfo else value).isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    raise ArchiveError(f"cannot carry a value of type {type(value).__name__}")


def decode(column: Column, value: Any) -> Any:
    """The Python value for `column` of a JSON value written by :func:`encode`."""
    if value is None:
        return None
    if isinstance(column, Timestamptz):
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    if isinstance(column, Timestamp):
        return datetime.fromisoformat(value)
    if isinstance(column, Date):
        return date.fromisoformat(value)
    if isinstance(column, Time):
        return time.fromisoformat(value)
    if isinstance(column, Interval):
        return timedelta(seconds=value)
    if isinstance(column, Numeric):
        return Decimal(value)
    if isinstance(column, Boolean):
        return bool(value)
    if isinstance(column, UUID):
        return uuid.UUID(value)
    if isinstance(column, Bytea):
        return base64.b64decode(value)
    if isinstance(column, JSON):
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return value


def column_names(table: type[Table]) -> list[str]:
    return [c._meta.name for c in table._meta.columns]


# -- the zip --------------------------------------------------------------------------------------

def _safe_member(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ArchiveError(f"the archive has an unsafe member name {name!r}")
    return name


class ArchiveWriter:
    """Writes members into the zip while keeping their SHA-256; `close` adds SHA256SUMS."""

    def __init__(self, path: Path):
        self.path = path
        self.zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
        self.sums: dict[str, str] = {}

    def write_rows(self, table: str, rows: Iterable[dict]) -> None:
        name = f"tables/{table}.jsonl"
        digest = hashlib.sha256()
        with self.zip.open(name, "w") as out:
            for row in rows:
                line = (json.dumps({k: encode(v) for k, v in row.items()}, ensure_ascii=False) + "\n").encode()
                digest.update(line)
                out.write(line)
        self.sums[name] = digest.hexdigest()

    def write_file(self, name: str, source: Path) -> None:
        digest = hashlib.sha256()
        with source.open("rb") as src, self.zip.open(_safe_member(name), "w") as out:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
        self.sums[name] = digest.hexdigest()

    async def write_stream(self, name: str, chunks: AsyncIterator[bytes]) -> str:
        """Write a member from a stream of chunks (a file store's); returns its SHA-256."""
        digest = hashlib.sha256()
        with self.zip.open(_safe_member(name), "w") as out:
            async for chunk in chunks:
                digest.update(chunk)
                out.write(chunk)
        self.sums[name] = digest.hexdigest()
        return self.sums[name]

    def close(self, manifest: dict) -> None:
        data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
        self.zip.writestr(MANIFEST, data)
        self.sums[MANIFEST] = hashlib.sha256(data).hexdigest()
        self.zip.writestr(SUMS, "".join(f"{h}  {n}\n" for n, h in sorted(self.sums.items())))
        self.zip.close()

    def abort(self) -> None:
        self.zip.close()
        self.path.unlink(missing_ok=True)


class ArchiveReader:
    """Opens an archive and checks it whole before anything is read from it."""

    def __init__(self, path: Path):
        try:
            self.zip = zipfile.ZipFile(path)
        except FileNotFoundError:
            raise ArchiveError(f"no such file: {path}") from None
        except (zipfile.BadZipFile, OSError) as exc:
            raise ArchiveError(f"{path} is not a tenant archive ({exc})") from None
        self.path = path

    def verify(self) -> dict:
        """Check every member against SHA256SUMS and return the manifest; raise ArchiveError."""
        names = {i.filename for i in self.zip.infolist() if not i.is_dir()}
        if SUMS not in names or MANIFEST not in names:
            raise ArchiveError(f"{self.path} is not a tenant archive (no {SUMS} or {MANIFEST})")
        sums: dict[str, str] = {}
        for line in self.zip.read(SUMS).decode("utf-8", "replace").splitlines():
            digest, _, name = line.partition("  ")
            if len(digest) != 64 or not name:
                raise ArchiveError(f"the archive is damaged: {SUMS} has a malformed line")
            sums[_safe_member(name)] = digest
        if names - {SUMS} != set(sums):
            odd = sorted((names - {SUMS}) ^ set(sums))[0]
            raise ArchiveError(f"the archive is damaged: member {odd} is missing or not in {SUMS}")
        for name in sorted(sums):
            digest = hashlib.sha256()
            try:
                with self.zip.open(name) as member:
                    for chunk in iter(lambda: member.read(1 << 20), b""):
                        digest.update(chunk)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise ArchiveError(f"the archive is damaged: {name} cannot be read ({exc})") from None
            if digest.hexdigest() != sums[name]:
                raise ArchiveError(f"the archive is damaged: {name} does not match its SHA-256 checksum")
        try:
            manifest = json.loads(self.zip.read(MANIFEST))
        except ValueError:
            manifest = None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ArchiveError(f"{self.path} is not a tenant archive (its {MANIFEST} is not one)")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise ArchiveError(f"archive format version {manifest.get('format_version')} is not supported "
                               f"(this installation reads version {FORMAT_VERSION})")
        self.files = sorted(n for n in sums if n.startswith("files/"))
        return manifest

    def rows(self, table: str) -> Iterator[dict]:
        name = f"tables/{table}.jsonl"
        if name not in self.zip.namelist():
            return
        with self.zip.open(name) as member:
            for line in member:
                if line.strip():
                    yield json.loads(line)

    def read(self, name: str) -> bytes:
        return self.zip.read(name)

    def open(self, name: str) -> IO[bytes]:
        return self.zip.open(name)

    def close(self) -> None:
        self.zip.close()
