"""Importing the company registry from CSV or XLSX (批量导入) in the background
(:mod:`core.cases.import_jobs`): the request stores the file and queues the job; the worker reads
and checks the whole file first (a bad file, or one with more than :data:`MAX_ROWS` rows, fails the
job with nothing applied), then registers the rows in chunks, so the page shows progress and a
per-row report."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import IO, Iterator

from core.cases import import_jobs
from core.cases.companies import register_company
from core.cases.tables import ImportJob
from core.company_import import MAX_ROWS, company_rows
from core.jobs import actor
from core.scope import scoped

KIND = "companies"
MAX_BYTES = 20 * 1024 * 1024


async def start_import(user_id: int, filename: str, upload: bytes | IO[bytes]) -> ImportJob:
    return await import_jobs.queue_import(KIND, "import_companies", user_id, filename, upload, MAX_BYTES)


def _rows(path: Path) -> Iterator[list]:
    """Each data row as ``[row_number, fields or None, errors]`` (run in a worker thread)."""
    for number, row, errors in company_rows(path, MAX_ROWS):
        fields = dataclasses.asdict(row) if row is not None else None
        yield [number, fields, list(import_jobs.error_dicts(errors))]


@actor("import_companies")
async def import_companies(job_id: int, offset: int) -> None:
    job = await import_jobs.open_job(job_id)
    if job is None or (job.status == "queued" and not await import_jobs.prepare(job, _rows)):
        return
    errors = json.loads(job.errors or "[]")
    chunk = import_jobs.spooled(job, offset)
    for _, fields, row_errors in chunk:
        errors += row_errors
        if fields is None:
            continue
        _, created = await register_company(
            fields["credit_code"], fields["name"], industry=fields["industry"], township=fields["township"],
            address=fields["address"], contact_name=fields["contact_name"], contact_phone=fields["contact_phone"],
            email=fields["email"], liaison_name=fields["liaison"])
        if created:
            job.created += 1
        else:
            job.updated += 1
    job.errors = json.dumps(errors, ensure_ascii=False)
    await import_jobs.advance(job, "import_companies", offset + len(chunk))


ACTORS = [import_companies]


async def recent_imports(limit: int = 5) -> list[dict]:
    """The company imports started last, newest first."""
    return await scoped(ImportJob).select().where(ImportJob.kind == KIND).order_by(
        ImportJob.id, ascending=False).limit(limit)


async def company_import(job_id: int) -> dict | None:
    """One company import (None when there is no such import in the tenant)."""
    return await scoped(ImportJob).select().where((ImportJob.id == job_id) & (ImportJob.kind == KIND)).first()
