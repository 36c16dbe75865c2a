"""Background imports of an uploaded file (批量导入), whatever it holds.

The request only stores the upload (refusing it when larger than its bound or plainly not a CSV or
workbook) and queues a job: it never parses.  The worker's first message reads the file lazily in a
thread (the event loop, which may be the web process's own, stays free), writing each row to apply
as a JSON line of a spool file; a whole-file problem — too many rows among them, found on reading
row ``max_rows + 1`` — fails the job with its reason and nothing applied.  Later messages apply
the spool :data:`CHUNK` rows at a time, each its own transaction, so the page shows progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
import time
import uuid
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator

from core.cases.tables import ImportJob
from core.clock import now
from core.config import get_settings
from core.errors import MSG_TOO_LARGE, UserError, too_large
from core.i18n import N_
from core.outbox import enqueue
from core.scope import current_tenant, scoped
from core.spreadsheets import HEAD, ImportFileError, sniff

CHUNK = 1000
MSG_GONE = N_("The uploaded file is no longer stored; upload it again.")


class TooLarge(Exception):
    pass


def _path(key: str) -> Path:
    return get_settings().var_dir / "imports" / str(current_tenant().id) / key


def _spool_path(key: str) -> Path:
    return _path(key).with_suffix(".rows")


def _store(upload: IO[bytes], path: Path, max_bytes: int) -> bytes:
    """Copy the upload to `path` in chunks, refusing it past `max_bytes`; returns its first bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    upload.seek(0)
    head = upload.read(HEAD)
    written = len(head)
    with open(path, "wb") as out:
        out.write(head)
        while chunk := upload.read(1 << 20):
            written += len(chunk)
            if written > max_bytes:
                raise TooLarge
            out.write(chunk)
    return head


async def queue_import(kind: str, actor_name: str, user_id: int, filename: str, upload: bytes | IO[bytes],
                       max_bytes: int) -> ImportJob:
    """Store the upload and queue `actor_name` (``job_id``, ``offset``) to import it."""
    stream = io.BytesIO(upload) if isinstance(upload, (bytes, bytearray)) else upload
    key = uuid.uuid4().hex
    path = _path(key)
    try:
        head = await asyncio.to_thread(_store, stream, path, max_bytes)
        sniff(head)
    except TooLarge:
        path.unlink(missing_ok=True)
        raise too_large(max_bytes) from None
    except ImportFileError as exc:
        path.unlink(missing_ok=True)
        raise UserError(400, exc.message, code="import_file", **exc.params) from None
    job = await scoped(ImportJob).add(kind=kind, filename=filename[:255], storage_key=key, status="queued",
                                      created_by=user_id)
    await enqueue(actor_name, job_id=job.id, offset=0)
    return job


async def open_job(job_id: int) -> ImportJob | None:
    """The job to work on, or None when it is gone or finished."""
    job = await scoped(ImportJob).objects().where(ImportJob.id == job_id).first()
    if job is None or job.status in ("done", "failed"):
        return None
    return job


def _spool(rows: Callable[[Path], Iterable[list]], source: Path, target: Path) -> int:
    if not source.exists():  # a retry after the job's end was recorded but not committed
        raise ImportFileError(MSG_GONE)
    count = 0
    with open(target, "w", encoding="utf-8") as out:
        for row in rows(source):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
            if count % 10 == 0:
                time.sleep(0)  # hand over the GIL: the web process's event loop answers between rows
    return count


async def prepare(job: ImportJob, rows: Callable[[Path], Iterable[list]]) -> bool:
    """Read the stored file once, in a thread, through `rows` (path → JSON-able rows to apply);
    False when the file was refused (the job is then failed with the reason, and saved)."""
    source, target = _path(job.storage_key), _spool_path(job.storage_key)
    try:
        job.total = await asyncio.to_thread(_spool, rows, source, target)
    except ImportFileError as exc:
        job.status, job.finished_at = "failed", now()
        job.message, job.message_params = exc.message, json.dumps(exc.params, ensure_ascii=False)
        await job.save()
        _remove(job)
        return False
    job.status = "running"
    return True


def spooled(job: ImportJob, offset: int, count: int = CHUNK) -> list:
    """Rows ``offset`` to ``offset + count`` of the spool (earlier lines are skipped unparsed)."""
    with open(_spool_path(job.storage_key), encoding="utf-8") as spool:
        return [json.loads(line) for line in itertools.islice(spool, offset, offset + count)]


async def advance(job: ImportJob, actor_name: str, processed: int) -> None:
    """Record progress; queue the next chunk, or finish."""
    job.processed = processed
    if job.processed < job.total:
        job.status = "running"
        await enqueue(actor_name, job_id=job.id, offset=job.processed)
    else:
        job.status, job.finished_at = "done", now()
        _remove(job)
    await job.save()


def _remove(job: ImportJob) -> None:
    for path in (_path(job.storage_key), _spool_path(job.storage_key)):
        with contextlib.suppress(OSError):
            path.unlink()


def error_dicts(errors: Iterable) -> Iterator[dict]:
    for e in errors:
        yield {"row": e.row_number, "field": e.field, "message": e.message, "params": e.params}


def job_view(row: dict) -> dict:
    """A job row as pages show it: its row errors and whole-file reason decoded."""
    row["error_list"] = json.loads(row.get("errors") or "[]")
    row["params"] = json.loads(row.get("message_params") or "{}")
    return row


__all__ = ["CHUNK", "MSG_TOO_LARGE", "advance", "error_dicts", "job_view", "open_job", "prepare", "queue_import",
           "spooled", "too_large"]
