"""The record anchored outside the database (存证): signed chain heads, published.

Whoever can rewrite every later event and the chain head can forge a chain that verifies.  So
each tenant's head (`AuditHead`: sequence number and hash) is signed every day with an Ed25519
key kept outside the database (`AUDIT_KEY_FILE`, by default ``<var>/audit_signing_key.pem``,
generated on first use, mode 0600), stored as an `AuditAnchor` and published with the public
key on the tenant's public page, as ``anchors.json`` and in the tenant export.  Anyone who saved
them can later hold the record to them (`qinqing audit verify --anchors FILE`): each signature
must be valid and the event at each anchored sequence number must still have the anchored hash.

The signed message is the UTF-8 JSON of ``{"hash", "seq", "signed_at", "tenant"}`` (the tenant's
slug, the time in UTC to the second), keys sorted, no spaces — checkable with any Ed25519 tool.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from core.cases.audit import chain_head, verify_tenant
from core.cases.tables import AuditAnchor, Event
from core.clock import as_utc, now
from core.config import get_settings
from core.scope import current_tenant, scoped

FORMAT = "qinqing-audit-anchors"
PUBLISHED_ON_PAGE = 10  # the latest anchors shown on the public page (all are in anchors.json)
log = logging.getLogger("qinqing.anchors")


# -- the key ---------------------------------------------------------------------------------------

def key_path() -> Path:
    """AUDIT_KEY_FILE, or the key in the var directory (what `core.config` fills in)."""
    settings = get_settings()
    return settings.audit_key_file or settings.var_dir / "audit_signing_key.pem"


def signing_key() -> Ed25519PrivateKey:
    """The installation's signing key, generated (mode 0600) on first use."""
    path = key_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it a moment ago: use theirs
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key")
    return key


def public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


# -- signing ---------------------------------------------------------------------------------------

def message(tenant: str, seq: int, digest: str, signed_at: str) -> bytes:
    body = {"tenant": tenant, "seq": seq, "hash": digest, "signed_at": signed_at}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _when(value) -> str:
    return as_utc(value).isoformat(timespec="seconds")


async def anchor_tenant() -> AuditAnchor | None:
    """Sign the current tenant's chain head, unless it is already signed or the chain does not
    verify (a broken record is never vouched for); returns the new anchor."""
    seq, digest = await chain_head()
    if seq == 0 or await scoped(AuditAnchor).exists().where(AuditAnchor.seq == seq):
        return None
    chain = await verify_tenant()
    if not chain.ok:
        log.warning("chain head of %s not signed: %s", current_tenant().slug, chain.problem)
        return None
    key = signing_key()
    signed_at = now().replace(microsecond=0)
    signature = key.sign(message(current_tenant().slug, seq, digest, _when(signed_at))).hex()
    return await scoped(AuditAnchor).add(seq=seq, hash=digest, signed_at=signed_at, signature=signature,
                                         public_key=public_hex(key))


# -- publishing ------------------------------------------------------------------------------------

def _entry(row: dict) -> dict:
    return {"seq": row["seq"], "hash": row["hash"], "signed_at": _when(row["signed_at"]),
            "signature": row["signature"], "public_key": row["public_key"]}


async def published(limit: int | None = None) -> dict:
    """The current tenant's signed heads as published (newest first when `limit` is given; all in
    sequence order otherwise) with the public key of the newest."""
    query = scoped(AuditAnchor).select().order_by(AuditAnchor.seq, ascending=limit is None)
    rows = await (query.limit(limit) if limit else query)
    entries = [_entry(r) for r in rows]
    newest = max(entries, key=lambda e: e["seq"], default=None)
    return {"format": FORMAT, "version": 1, "tenant": current_tenant().slug, "algorithm": "Ed25519",
            "public_key": newest["public_key"] if newest else "",
            "message": "UTF-8 JSON of hash, seq, signed_at, tenant: keys sorted, no spaces",
            "anchors": entries}


# -- checking the record against saved anchors ----------------------------------------------------

@dataclass
class AnchorCheck:
    checked: int
    problem: str = ""


def signature_valid(tenant: str, entry: dict, public_key: str) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
        key.verify(bytes.fromhex(entry["signature"]),
                   message(tenant, int(entry["seq"]), entry["hash"], entry["signed_at"]))
        return True
    except (InvalidSignature, ValueError, TypeError, KeyError):
        return False


async def check_anchors(document: dict, pinned_key: str | None = None) -> AnchorCheck:
    """Hold the current tenant's chain to anchors published earlier: each signature valid for the
    published key (`pinned_key` when given, else the anchor's own), and the event at each anchored
    sequence number still has the anchored hash."""
    tenant = current_tenant().slug
    entries = document.get("anchors") or []
    for n, entry in enumerate(sorted(entries, key=lambda e: int(e.get("seq", 0)))):
        key = pinned_key or entry.get("public_key") or document.get("public_key") or ""
        if not signature_valid(tenant, entry, key):
            return AnchorCheck(n, f"the anchor of event {entry.get('seq')} is not signed by key {key[:16]}…")
        row = await scoped(Event).select(Event.hash).where(Event.seq == int(entry["seq"])).first()
        if row is None:
            return AnchorCheck(n, f"event {entry['seq']}, anchored on {entry['signed_at']}, is missing")
        if row["hash"] != entry["hash"]:
            return AnchorCheck(n, f"event {entry['seq']} differs from the head signed on {entry['signed_at']} "
                                  "(the chain was rewritten)")
    return AnchorCheck(len(entries))
