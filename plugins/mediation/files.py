"""Files that came with a referral (随案材料): the district sends each one the referrer chose in a
message of its own (content in base64 with its SHA-256); the court checks the hash and the size,
keeps the file in its own store and lists it on the dispute, for its staff only.

The file store is reached only through :func:`keep` and :func:`content`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging

from core.sdk import MAX_ATTACHMENT_BYTES, UserError, get_file, put_file, read_case_attachment, scoped
from plugins.mediation.tables import Dispute, DisputeFile

log = logging.getLogger("qinqing.mediation")


# -- the store ---------------------------------------------------------------------------------------

async def keep(data: bytes) -> str:
    """Keep `data` in the tenant's file store; its storage key."""
    return (await put_file(data)).key


async def content(storage_key: str) -> bytes:
    """The bytes kept under `storage_key` in the tenant's file store (404 when there are none)."""
    return b"".join([chunk async for chunk in await get_file(storage_key)])


# -- the district's side -------------------------------------------------------------------------------

async def outgoing(case_id: int, attachment_id: int) -> tuple[dict, str]:
    """One chosen attachment of the case: what the message says of it, and its content in base64."""
    row, data = await read_case_attachment(case_id, attachment_id)
    meta = {"filename": row["filename"], "kind": row["kind"], "mime": row["mime"], "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}
    return meta, base64.b64encode(data).decode("ascii")


# -- the court's side ----------------------------------------------------------------------------------

async def receive_file(message_key: str, referral_key: str, body: dict) -> bool:
    """Keep a file that came with a referral, once per message; a file whose content does not match
    its hash or is over the limit is not kept (the message stays on the record)."""
    try:
        data = base64.b64decode(str(body.get("content") or ""), validate=True)
    except (binascii.Error, ValueError):
        data = b""
    digest = str(body.get("sha256") or "")
    if not data or len(data) > MAX_ATTACHMENT_BYTES or hashlib.sha256(data).hexdigest() != digest:
        log.warning("file of referral %s not kept: empty, too large or not matching its hash", referral_key)
        return False
    await scoped(DisputeFile).add(referral_key=referral_key, message_key=message_key,
                                  filename=str(body.get("filename") or "file")[:255],
                                  kind=str(body.get("kind") or "")[:20], mime=str(body.get("mime") or "")[:100],
                                  size=len(data), sha256=digest, storage_key=await keep(data))
    return True


async def of_dispute(dispute: dict) -> list[dict]:
    """The files that came with the referral of `dispute` (a row with `referral_key`)."""
    if not dispute.get("referral_key"):
        return []
    return await scoped(DisputeFile).select(
        DisputeFile.id, DisputeFile.filename, DisputeFile.kind, DisputeFile.size, DisputeFile.sha256,
        DisputeFile.created_at).where(DisputeFile.referral_key == dispute["referral_key"]).order_by(DisputeFile.id)


async def download(user, dispute_id: int, file_id: int) -> tuple[dict, bytes]:
    """A file of a dispute for the court's staff (mediation.view): its row and content; 404 when the
    tenant's dispute has no such file, 403 for anyone else of the court (a bank, a company)."""
    dispute = await scoped(Dispute).select(Dispute.referral_key).where(Dispute.id == dispute_id).first()
    row = await scoped(DisputeFile).select().where(
        (DisputeFile.id == file_id) & (DisputeFile.referral_key == dispute["referral_key"])).first() if (
        dispute and dispute["referral_key"]) else None
    if row is None:
        raise UserError(404, "Not found.")
    if not user.can("mediation.view"):
        raise UserError(403, "You are not allowed to do this.")
    return row, await content(row["storage_key"])
