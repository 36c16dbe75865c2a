"""Moving a tenant's files between the file stores (`qinqing attachments move`, 迁移附件存储).

File by file: copy into the target store, read the copy back and compare its SHA-256 with the
source's (and with the attachment row's, where one records it), and only then remove the source.
A file is never in neither store, and downloads find it in either meanwhile
(`core.storage.open_stored`).  Run again, the command moves what is left: a file already copied
(an interrupted run) is recognised by its checksum and only removed from the source; a tenant
with nothing left in the source reports nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from core.cases.tables import Attachment
from core.scope import TenantContext, scoped, tenant_scope
from core.storage import STORES, FileMissing, FileStore, file_store


@dataclass
class MoveReport:
    source: str
    target: str
    found: int = 0
    copied: int = 0
    already: int = 0  # in the target with the same checksum (an interrupted run): only removed from the source
    problems: list[str] = field(default_factory=list)

    @property
    def moved(self) -> int:
        return self.copied + self.already


async def _recorded(tenant: TenantContext) -> dict[str, str]:
    """The SHA-256 each attachment row records, by storage key."""
    async with tenant_scope(tenant, write=False):
        rows = await scoped(Attachment).select(Attachment.storage_key, Attachment.sha256)
    return {r["storage_key"]: r["sha256"] for r in rows}


async def move_files(tenant: TenantContext, target: str, progress: Callable[[str], None] = lambda line: None
                     ) -> MoveReport:
    """Move every file of `tenant` from the other store into `target` ("local" or "database")."""
    if target not in STORES:
        raise ValueError(f"no file store {target!r}")
    to: FileStore = file_store(target)
    source = next(file_store(name) for name in STORES if name != target)
    report = MoveReport(source=source.name, target=to.name)
    keys = await source.keys(tenant)
    recorded = await _recorded(tenant) if keys else {}
    report.found = len(keys)
    for key in keys:
        try:
            expected = await _move(tenant, key, source, to, recorded, report)
        except FileMissing:  # gone from the source meanwhile: another run moved it
            continue
        if expected:
            progress(f"  {key}  {expected}")
    return report


async def _move(tenant: TenantContext, key: str, source: FileStore, to: FileStore, recorded: dict[str, str],
                report: MoveReport) -> str | None:
    """Move one file; its SHA-256 when moved, None (with a problem reported) when left in the source."""
    expected = await source.sha256(tenant, key)
    if recorded.get(key, expected) != expected:
        report.problems.append(f"{key}: the {source.name} copy does not match its recorded SHA-256; left there")
        return None
    if await to.exists(tenant, key) and await to.sha256(tenant, key) == expected:
        report.already += 1
    else:
        await to.put(tenant, key, await source.get(tenant, key))
        if await to.sha256(tenant, key) != expected:  # read back from the target, not the copy's own count
            await to.delete(tenant, key)
            report.problems.append(f"{key}: the copy in the {to.name} store did not verify; left in {source.name}")
            return None
        report.copied += 1
    await source.delete(tenant, key)
    return expected
