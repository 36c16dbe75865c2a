"""Bulk pairing from a CSV or XLSX file (批量结对), in the background like the company import
(``core.sdk.import_jobs``): the request stores the file and queues the job; the worker reads
it once (at most :data:`MAX_ROWS` rows, refused whole beyond), then applies the rows in chunks
with a per-row report: unknown company or assistant, missing value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Iterator

from core.sdk import (
    N_,
    Company,
    ImportFileError,
    ImportJob,
    User,
    actor,
    data_rows,
    header_key,
    import_jobs,
    read_table,
    scoped,
)
from plugins.liaison.access import is_assistant
from plugins.liaison.pairing import assign, require_coordinator
from plugins.liaison.tables import Pairing

KIND = "liaison_pairings"
ACTOR = "liaison_import_pairings"
MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024
COLUMNS = {"credit_code": ("统一社会信用代码", "credit_code", "company"),
           "assistant": ("助企员", "assistant", "username", "助企员账号"),
           "reason": ("原因", "reason", "调整原因")}
MSG_UNKNOWN_COMPANY = N_("Unknown company: %(credit_code)s.")
MSG_UNKNOWN_ASSISTANT = N_("%(assistant)s is not a cadre assistant of this tenant.")
MSG_REQUIRED = N_("This value is required.")
MSG_MISSING = N_("Required columns are missing: %(columns)s.")
MSG_EMPTY = N_("The file is empty.")
MSG_NO_ROWS = N_("The file has a header but no pairing rows.")
MSG_TOO_MANY = N_("The file has more than %(max)s pairing rows.")
BULK_REASON = N_("Bulk pairing from a file")


async def start_pairing_import(user, filename: str, upload: bytes | IO[bytes]) -> ImportJob:
    require_coordinator(user)
    return await import_jobs.queue_import(KIND, ACTOR, user.id, filename, upload, MAX_BYTES)


def _columns(header: list[str]) -> dict[str, int]:
    aliases = {header_key(n): key for key, names in COLUMNS.items() for n in names}
    found: dict[str, int] = {}
    for index, text in enumerate(header):
        key = aliases.get(header_key(text))
        if key is not None and key not in found:
            found[key] = index
    missing = [COLUMNS[k][0] for k in ("credit_code", "assistant") if k not in found]
    if missing:
        raise ImportFileError(MSG_MISSING, {"columns": ", ".join(missing)})
    return found


def pairing_rows(source, max_rows: int = MAX_ROWS) -> Iterator[list]:
    """Each data row as ``[row_number, credit_code, assistant, reason]``, read lazily; whole-file
    problems raise :class:`ImportFileError` as soon as they are read."""
    table = read_table(source)
    header = next(table, None)
    if not header or not any(header):
        raise ImportFileError(MSG_EMPTY)
    columns = _columns(header)
    count = 0
    for number, cells in data_rows(table, max_rows, MSG_TOO_MANY):
        count += 1
        cells = cells + [""] * (max(columns.values()) + 1 - len(cells))
        reason = cells[columns["reason"]] if "reason" in columns else ""
        yield [number, cells[columns["credit_code"]].upper(), cells[columns["assistant"]], reason]
    if not count:
        raise ImportFileError(MSG_NO_ROWS)


def _rows(path: Path) -> Iterator[list]:
    return pairing_rows(path)


async def _problems(code: str, username: str) -> tuple[list[tuple], int | None, int | None]:
    errors: list[tuple] = []
    company = await scoped(Company).select(Company.id).where(Company.credit_code == code).first() if code else None
    if not code:
        errors.append(("credit_code", MSG_REQUIRED, {}))
    elif company is None:
        errors.append(("credit_code", MSG_UNKNOWN_COMPANY, {"credit_code": code}))
    assistant = await User.select(User.id).where(User.username == username).first() if username else None
    if not username:
        errors.append(("assistant", MSG_REQUIRED, {}))
    elif assistant is None or not await is_assistant(assistant["id"]):
        errors.append(("assistant", MSG_UNKNOWN_ASSISTANT, {"assistant": username}))
    return errors, company and company["id"], assistant and assistant["id"]


@actor(ACTOR)
async def import_pairings(job_id: int, offset: int) -> None:
    job = await import_jobs.open_job(job_id)
    if job is None or (job.status == "queued" and not await import_jobs.prepare(job, _rows)):
        return
    errors = json.loads(job.errors or "[]")
    chunk = import_jobs.spooled(job, offset)
    for number, code, username, reason in chunk:
        problems, company_id, assistant_id = await _problems(code, username)
        if problems:
            errors += [{"row": number, "field": f, "message": m, "params": p} for f, m, p in problems]
            continue
        before = await scoped(Pairing).select(Pairing.assistant).where(Pairing.company == company_id).first()
        if before and before["assistant"] == assistant_id:
            job.unchanged += 1
            continue
        await assign(job.created_by, company_id, assistant_id, reason or BULK_REASON)
        if before:
            job.updated += 1
        else:
            job.created += 1
    job.errors = json.dumps(errors, ensure_ascii=False)
    await import_jobs.advance(job, ACTOR, offset + len(chunk))


ACTORS = [import_pairings]
