"""Attachments (附件): checked by content, stored outside the web root, served only to those who
may see the case."""

from __future__ import annotations

import hashlib
import re
import uuid
from email.utils import encode_rfc2231
from pathlib import Path

from core.cases.audit import append_event
from core.cases.tables import Attachment, Case
from core.config import get_settings
from core.errors import UserError
from core.filetypes import MAX_ATTACHMENT_BYTES, AttachmentRejected, check_attachment
from core.prepared import Prepared, Read
from core.scope import current_tenant, scoped

# Control characters (C0, DEL, C1), line separators and bidirectional overrides: never part of a
# name a user means, and a CR LF in a name would break the download's headers.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")


def clean_filename(filename: str) -> str:
    """The name an upload is kept under: its last path part, unprintable characters made spaces."""
    name = Path(_UNPRINTABLE.sub(" ", filename or "").replace("\\", "/")).name.strip()
    return name[:255] or "file"


def _path(tenant_id: int, key: str) -> Path:
    return get_settings().var_dir / "attachments" / str(tenant_id) / key[:2] / key


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
    key = uuid.uuid4().hex
    path = _path(current_tenant().id, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    row = await scoped(Attachment).add(
        case=case.id, uploaded_by=user.id, filename=clean_filename(filename), kind=kind.kind,
        mime=kind.mime, size=len(content), sha256=hashlib.sha256(content).hexdigest(), storage_key=key,
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


async def read(case: Case, attachment_id: int) -> tuple[dict, bytes]:
    row = await scoped(Attachment).select().where(
        (Attachment.id == attachment_id) & (Attachment.case == case.id)).first()
    if row is None:
        raise UserError(404, "Not found.")
    path = _path(current_tenant().id, row["storage_key"])
    if not path.exists():
        raise UserError(404, "Not found.")
    return row, path.read_bytes()


def disposition(filename: str) -> str:
    """`Content-Disposition` for a download: a printable-ASCII fallback name, and the exact name
    percent-encoded as RFC 5987 `filename*`, so no stored name can break out of the header."""
    fallback = "".join(ch for ch in filename if " " <= ch <= "~" and ch not in '"\\').strip() or "attachment"
    return f"attachment; filename=\"{fallback}\"; filename*={encode_rfc2231(filename, 'utf-8')}"
