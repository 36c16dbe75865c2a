"""File storage (文件存储): where the bytes of attachments live, by (tenant, key).

Two stores, one chosen by ``ATTACHMENT_STORE``:

- ``local`` (the embedded default): ``<var>/attachments/<tenant id>/<key[:2]>/<key>`` on the web
  node's own disk;
- ``database``: the file as numbered chunks of :data:`CHUNK_BYTES` in the tenant table
  ``file_chunk``, so every web node that reaches the database serves it.

Chunked rows rather than PostgreSQL large objects: the rows carry ``tenant_id`` under the same
row-level security policy as every tenant table (large objects live in ``pg_largeobject`` with
per-object ACLs, outside any tenant policy, and outlive a deleted row until ``vacuumlo``); they are
plain SQL on both engines, go to a streaming replica with the rest, and need no privilege beyond
the application role's.

The database store's writes join the caller's transaction when it is in the same tenant (an
attachment is stored with its row, or not at all); reads outside a transaction take one short read
transaction per chunk, so a download holds one chunk in memory and no connection between chunks.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from abc import ABC, abstractmethod
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, AsyncIterable, AsyncIterator, Union

from core.config import get_settings
from core.db import current_engine, in_transaction
from core.errors import UserError, too_large
from core.filetypes import MAX_ATTACHMENT_BYTES
from core.scope import TenantContext, current_tenant, current_tenant_or_none, scoped, tenant_scope
from core.storage_tables import FileChunk

CHUNK_BYTES = 256 * 1024
STORES = ("local", "database")
_KEY = re.compile(r"[0-9a-z][0-9a-z_-]{1,99}")

Source = Union[bytes, AsyncIterable[bytes], IO[bytes]]


class FileMissing(LookupError):
    """No file under this key in this tenant's store."""


class FileTooLarge(ValueError):
    """The file is larger than the `max_bytes` the caller allowed; nothing was kept."""


@dataclass(frozen=True)
class StoredFile:
    """What a store kept: the key, the size in bytes and the SHA-256 (hex) of the content."""

    key: str
    size: int
    sha256: str


def new_key() -> str:
    """A fresh storage key (32 lowercase hex digits)."""
    return uuid.uuid4().hex


def is_key(key: str) -> bool:
    """Whether `key` is a storage key (lowercase letters, digits, ``_`` and ``-``; 2–100 characters)."""
    return isinstance(key, str) and _KEY.fullmatch(key) is not None


def check_key(key: str) -> str:
    """`key` if it is a storage key (lowercase letters, digits, ``_`` and ``-``; 2–100 characters)."""
    if not is_key(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


async def _chunks(source: Source, max_bytes: int | None) -> AsyncIterator[bytes]:
    """`source` cut into chunks of at most CHUNK_BYTES; FileTooLarge past `max_bytes`."""
    total = 0

    def counted(chunk: bytes) -> bytes:
        nonlocal total
        total += len(chunk)
        if max_bytes is not None and total > max_bytes:
            raise FileTooLarge(max_bytes)
        return chunk

    if isinstance(source, (bytes, bytearray, memoryview)):
        view = memoryview(source)
        for start in range(0, len(view), CHUNK_BYTES):
            yield counted(bytes(view[start:start + CHUNK_BYTES]))
    elif hasattr(source, "read"):
        while chunk := source.read(CHUNK_BYTES):
            yield counted(chunk)
    else:
        buffer = bytearray()
        async for part in source:
            buffer += part
            while len(buffer) >= CHUNK_BYTES:
                yield counted(bytes(buffer[:CHUNK_BYTES]))
                del buffer[:CHUNK_BYTES]
        if buffer:
            yield counted(bytes(buffer))


class FileStore(ABC):
    """put / get (a stream of chunks) / delete / exists / keys of one tenant's files."""

    name = ""

    @abstractmethod
    async def put(self, tenant: TenantContext, key: str, source: Source, max_bytes: int | None = None) -> StoredFile:
        """Store `source` (bytes, a binary file or an async iterable of bytes) under `key`, replacing
        what was there; FileTooLarge (nothing kept) past `max_bytes`."""
        ...

    @abstractmethod
    async def get(self, tenant: TenantContext, key: str) -> AsyncIterator[bytes]:
        """The file's content as chunks of at most CHUNK_BYTES; FileMissing when there is none."""
        ...

    @abstractmethod
    async def delete(self, tenant: TenantContext, key: str) -> bool:
        """Remove the file; False when there was none."""
        ...

    @abstractmethod
    async def exists(self, tenant: TenantContext, key: str) -> bool:
        ...

    @abstractmethod
    async def keys(self, tenant: TenantContext) -> list[str]:
        """Every key the tenant has in this store, sorted."""
        ...

    async def read(self, tenant: TenantContext, key: str) -> bytes:
        """The whole content (for small files and tests; downloads stream :meth:`get`)."""
        return b"".join([chunk async for chunk in await self.get(tenant, key)])

    async def sha256(self, tenant: TenantContext, key: str) -> str:
        digest = hashlib.sha256()
        async for chunk in await self.get(tenant, key):
            digest.update(chunk)
        return digest.hexdigest()


class LocalStore(FileStore):
    """Files in a directory of this machine (the embedded default)."""

    name = "local"

    def __init__(self, folder: str = "attachments"):
        self.folder = folder

    @property
    def root(self) -> Path:
        return get_settings().var_dir / self.folder

    def path(self, tenant: TenantContext, key: str) -> Path:
        return self.root / str(tenant.id) / check_key(key)[:2] / key

    async def put(self, tenant: TenantContext, key: str, source: Source, max_bytes: int | None = None) -> StoredFile:
        path = self.path(tenant, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{key}.{uuid.uuid4().hex}.partial")  # renamed into place when whole
        digest, size = hashlib.sha256(), 0
        try:
            with partial.open("wb") as out:
                async for chunk in _chunks(source, max_bytes):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            partial.replace(path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return StoredFile(key, size, digest.hexdigest())

    async def get(self, tenant: TenantContext, key: str) -> AsyncIterator[bytes]:
        try:
            handle = self.path(tenant, key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise FileMissing(key) from None
        return self._stream(handle)

    @staticmethod
    async def _stream(handle: IO[bytes]) -> AsyncIterator[bytes]:
        with handle:  # open, the file reads whole even if it is removed meanwhile
            while chunk := handle.read(CHUNK_BYTES):
                yield chunk

    async def delete(self, tenant: TenantContext, key: str) -> bool:
        path = self.path(tenant, key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    async def exists(self, tenant: TenantContext, key: str) -> bool:
        return self.path(tenant, key).is_file()

    async def keys(self, tenant: TenantContext) -> list[str]:
        root = self.root / str(tenant.id)
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.glob("*/*")
                      if p.is_file() and _KEY.fullmatch(p.name) and p.parent.name == p.name[:2])


class DatabaseStore(FileStore):
    """Files as chunks in the ``file_chunk`` table (any web node reaching the database serves them)."""

    name = "database"

    @asynccontextmanager
    async def _scope(self, tenant: TenantContext, write: bool):
        current = current_tenant_or_none()
        if current is not None and current.id == tenant.id and in_transaction():
            if not write:
                yield  # the caller's transaction
                return
            transaction = current_engine().current_transaction.get()
            assert transaction is not None  # in_transaction() said so
            savepoint = await transaction.savepoint()
            try:  # stored with the caller's rows, or not at all; a refused file leaves nothing
                yield
            except BaseException:
                await savepoint.rollback_to()
                raise
            await savepoint.release()
        else:
            async with tenant_scope(tenant, write=write):
                yield

    async def put(self, tenant: TenantContext, key: str, source: Source, max_bytes: int | None = None) -> StoredFile:
        check_key(key)
        digest, size, seq = hashlib.sha256(), 0, 0
        async with self._scope(tenant, write=True):
            await scoped(FileChunk).delete().where(FileChunk.key == key)
            async for chunk in _chunks(source, max_bytes):
                await scoped(FileChunk).insert({"key": key, "seq": seq, "data": chunk})
                digest.update(chunk)
                size, seq = size + len(chunk), seq + 1
            if seq == 0:  # an empty file is one empty chunk, so that it exists
                await scoped(FileChunk).insert({"key": key, "seq": 0, "data": b""})
        return StoredFile(key, size, digest.hexdigest())

    async def get(self, tenant: TenantContext, key: str) -> AsyncIterator[bytes]:
        check_key(key)
        async with self._scope(tenant, write=False):
            count = await scoped(FileChunk).count().where(FileChunk.key == key)
        if not count:
            raise FileMissing(key)
        return self._stream(tenant, key, count)

    async def _stream(self, tenant: TenantContext, key: str, count: int) -> AsyncIterator[bytes]:
        for seq in range(count):
            async with self._scope(tenant, write=False):
                row = await scoped(FileChunk).select(FileChunk.data).where(
                    (FileChunk.key == key) & (FileChunk.seq == seq)).first()
            if row is None:  # removed while it was being read
                raise FileMissing(key)
            yield bytes(row["data"])

    async def delete(self, tenant: TenantContext, key: str) -> bool:
        check_key(key)
        async with self._scope(tenant, write=True):
            found = await scoped(FileChunk).exists().where(FileChunk.key == key)
            await scoped(FileChunk).delete().where(FileChunk.key == key)
        return found

    async def exists(self, tenant: TenantContext, key: str) -> bool:
        check_key(key)
        async with self._scope(tenant, write=False):
            return await scoped(FileChunk).exists().where((FileChunk.key == key) & (FileChunk.seq == 0))

    async def keys(self, tenant: TenantContext) -> list[str]:
        async with self._scope(tenant, write=False):
            rows = await scoped(FileChunk).select(FileChunk.key).where(FileChunk.seq == 0).order_by(FileChunk.key)
        return [r["key"] for r in rows]


_STORES: dict[str, FileStore] = {"local": LocalStore(), "database": DatabaseStore()}


def file_store(name: str | None = None) -> FileStore:
    """The store called `name`, or the one ``ATTACHMENT_STORE`` chooses."""
    return _STORES[name or get_settings().attachment_store]


def _stores() -> list[FileStore]:
    first = file_store()
    return [first, *(store for store in _STORES.values() if store is not first)]


async def open_stored(tenant: TenantContext, key: str) -> AsyncIterator[bytes]:
    """The file from the configured store or, when it is not there, from the other one (a tenant
    whose files are being moved, or were stored before ``ATTACHMENT_STORE`` changed)."""
    for store in _stores():
        try:
            return await store.get(tenant, key)
        except FileMissing:
            continue
    raise FileMissing(key)


async def stored_keys(tenant: TenantContext) -> dict[str, FileStore]:
    """Every key of the tenant, with the store to read it from (the configured one first)."""
    found: dict[str, FileStore] = {}
    for store in reversed(_stores()):
        found.update(dict.fromkeys(await store.keys(tenant), store))
    return dict(sorted(found.items()))


# -- for plugins (core.sdk): the tenant in scope, the configured store -------------------------------

async def put_file(content: bytes, key: str | None = None) -> StoredFile:
    """Store `content` for the tenant in scope under `key` (a fresh one when None) and return
    what was kept (key, size, sha256); 413 past MAX_ATTACHMENT_BYTES.  In a request the file is
    kept only if the request's transaction commits (database store)."""
    try:
        return await file_store().put(current_tenant(), key or new_key(), content, MAX_ATTACHMENT_BYTES)
    except FileTooLarge:
        raise too_large(MAX_ATTACHMENT_BYTES) from None


async def get_file(key: str) -> AsyncIterator[bytes]:
    """The content stored under `key` for the tenant in scope, as an async iterator of chunks
    (``Stream(await get_file(key))`` or ``b"".join([c async for c in await get_file(key)])``);
    404 when the tenant has no such file (another tenant's key included)."""
    try:
        return await open_stored(current_tenant(), key)
    except (FileMissing, ValueError):
        raise UserError(404, "Not found.") from None
