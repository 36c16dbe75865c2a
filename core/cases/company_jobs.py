"""Importing the company registry from CSV or XLSX (批量导入) in the background: the file is
checked whole first (a bad file is refused at once), then rows are applied in chunks, each chunk
its own transaction and outbox message, so the page can show progress and a per-row report."""

from __future__ import annotations

import json
import uuid

from core.cases.companies import register_company
from core.cases.tables import ImportJob
from core.clock import now
from core.company_import import ImportFileError, count_data_rows, iter_company_file
from core.config import get_settings
from core.errors import UserError
from tenants.scope import current_tenant, scoped
from workers.actors import actor
from workers.outbox import enqueue

CHUNK = 1000
MAX_BYTES = 20 * 1024 * 1024


def _path(key: str):
    return get_settings().var_dir / "imports" / str(current_tenant().id) / key


async def start_import(user_id: int, filename: str, data: bytes) -> ImportJob:
    if len(data) > MAX_BYTES:
        raise UserError(413, "The request is too large.")
    try:
        total = count_data_rows(filename, data)
        for _ in iter_company_file(filename, data):  # whole-file problems surface before the first row
            break
    except ImportFileError as exc:
        raise UserError(400, exc.message, code="import_file", **exc.params) from None
    key = uuid.uuid4().hex
    path = _path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    job = await scoped(ImportJob).add(filename=filename[:255], storage_key=key, status="queued", total=total,
                                      created_by=user_id)
    await enqueue("import_companies", job_id=job.id, offset=0)
    return job


@actor("import_companies")
async def import_companies(job_id: int, offset: int) -> None:
    job = await scoped(ImportJob).objects().where(ImportJob.id == job_id).first()
    if job is None or job.status in ("done", "failed"):
        return
    data = _path(job.storage_key).read_bytes()
    errors = json.loads(job.errors or "[]")
    seen = 0
    for index, (number, row, row_errors) in enumerate(iter_company_file(job.filename, data)):
        if index < offset:
            continue
        if index >= offset + CHUNK:
            break
        seen += 1
        errors += [{"row": e.row_number, "field": e.field, "message": e.message, "params": e.params}
                   for e in row_errors]
        if row is not None:
            _, created = await register_company(
                row.credit_code, row.name, industry=row.industry, township=row.township, address=row.address,
                contact_name=row.contact_name, contact_phone=row.contact_phone, email=row.email,
                liaison_name=row.liaison)
            if created:
                job.created += 1
            else:
                job.updated += 1
    job.processed = offset + seen
    job.errors = json.dumps(errors, ensure_ascii=False)
    if job.processed < job.total:
        job.status = "running"
        await enqueue("import_companies", job_id=job.id, offset=job.processed)
    else:
        job.status, job.finished_at = "done", now()
    await job.save()


ACTORS = [import_companies]
