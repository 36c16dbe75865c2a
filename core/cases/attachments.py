"""Attachments (附件): checked by content, kept in the file store (`core.storage`: the local
directory or the database), served only to those who may see the case, streamed chunk by chunk."""

from __future__ import annotations

import re
from email.utils import encode_rfc2231
from pathlib import Path
from typing import AsyncIterator

from core.cases.access import load_visible_case
from core.cases.audit import append_event
from core.cases.tables import Attachment, Case
from core.errors import UserError
from core.filetypes import MAX_ATTACHMENT_BYTES, AttachmentRejected, check_attachment
from core.prepared import Prepared, Read
from core.scope import current_tenant, scoped, tenant_scope
from core.storage import FileMissing, file_store, new_key, open_stored

# Control characters (C0, DEL, C1), line separators and bidirectional overrides: never part of a
# name a user means, and a CR LF in a name would break the download's headers.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")


def clean_filename(filename: str) -> str:
    """The name an upload is kept under: its last path part, unprintable characters made spaces."""
    name = Path(_UNPRINTABLE.sub(" ", filename or "").replace("\\", "/")).name.strip()
    return name[:255] or "file"


async def check_upload(upload) -> tuple[object, bytes]:
    """Read an uploaded file and check it; a refused file is a 4xx before anything is stored."""
    content = await upload.read(MAX_ATTACHMENT_BYTES + 1)
    try:
        kind = check_attachment(upload.filename or "", content)
    except AttachmentRejected as exc:
        status = 413 if exc.reason_key == "too_large" else 415 if exc.reason_key == "type" else 400
        code = "attachment_" + exc.reason_key
        raise UserError(status, exc.message, code=code, **exc.params) from None
    return kind, content


async def store(case: Case, user, filename: str, content: bytes) -> Attachment:
    kind = check_attachment(filename, content)
    kept = await file_store().put(current_tenant(), new_key(), content)  # in this transaction, in the database
    row = await scoped(Attachment).add(
        case=case.id, uploaded_by=user.id, filename=clean_filename(filename), kind=kind.kind,
        mime=kind.mime, size=kept.size, sha256=kept.sha256, storage_key=kept.key,
    )
    await append_event(case=case.id, actor=user.id, actor_role=sorted(user.roles)[0] if user.roles else "",
                       action="attach", before=case.status, after=case.status,
                       data={"file": row.filename, "sha256": row.sha256, "size": row.size})
    return row


_LIST = Prepared(lambda case_id: scoped(Attachment).select(
    Attachment.id, Attachment.filename, Attachment.kind, Attachment.size, Attachment.created_at,
    Attachment.uploaded_by.display_name.as_alias("uploader"),
).where(Attachment.case == case_id).order_by(Attachment.id))


def list_for(case_id: int) -> Read:
    return _LIST.bind(case_id)


async def open_file(case: Case, attachment_id: int) -> tuple[dict, AsyncIterator[bytes]]:
    """The attachment's row and its content as a stream of chunks; 404 when the case has no such
    attachment or its file is gone."""
    row = await scoped(Attachment).select().where(
        (Attachment.id == attachment_id) & (Attachment.case == case.id)).first()
    if row is None:
        raise UserError(404, "Not found.")
    try:
        return row, await open_stored(current_tenant(), row["storage_key"])
    except FileMissing:
        raise UserError(404, "Not found.") from None


async def download(user, case_id: int, attachment_id: int) -> tuple[dict, AsyncIterator[bytes]]:
    """An attachment for `user` to download, checked in a read transaction of its own: the content
    streams after it, chunk by chunk (the database store reads each chunk in a short transaction),
    so a download holds neither the whole file nor a connection."""
    async with tenant_scope(current_tenant(), write=False):
        return await open_file(await load_visible_case(user, case_id), attachment_id)


async def read(case: Case, attachment_id: int) -> tuple[dict, bytes]:
    """The attachment's row and its whole content."""
    row, chunks = await open_file(case, attachment_id)
    return row, b"".join([chunk async for chunk in chunks])


def disposition(filename: str) -> str:
    """`Content-Disposition` for a download: a printable-ASCII fallback name, and the exact name
    percent-encoded as RFC 5987 `filename*`, so no stored name can break out of the header."""
    fallback = "".join(ch for ch in filename if " " <= ch <= "~" and ch not in '"\\').strip() or "attachment"
    return f"attachment; filename=\"{fallback}\"; filename*={encode_rfc2231(filename, 'utf-8')}"
