"""Messages across a tenant link (跨租户消息): sending one (stored on this side, on this side's
hash-chained record, and in the outbox addressed to the partner, all in the caller's transaction)
and the milestones a court reports to the district that referred a dispute."""

from __future__ import annotations

import json
import uuid

from core.sdk import append_event, current_tenant, enqueue, link_active, now, scoped, tenant_by_slug
from plugins.mediation.tables import Dispute, LinkMessage

ACTOR = "mediation_link_message"
# The dispute's steps the referring district hears of, as milestones.
MILESTONES = {"accept": "accepted", "decline": "declined", "session": "session_held", "settle": "settled",
              "confirm": "confirmed", "overdue": "overdue", "default": "defaulted", "cure": "cured",
              "enforce": "enforcement", "complete": "completed", "conclude": "enforced"}

async def _send(partner, kind: str, referral_key: str, body: dict, case: int | None = None,
                content: str | None = None) -> str:
    """Send one message to `partner` (a tenant): stored on this side, on this side's record, and in
    the outbox addressed to the partner — all in the caller's transaction.  A file's `content`
    (base64) travels in the message only: neither side's message row nor record keeps it."""
    tenant = current_tenant()
    key = f"{kind}:{referral_key}:{body.get('milestone', '')}:{uuid.uuid4().hex[:12]}"
    await scoped(LinkMessage).add(key=key, direction="out", partner=partner.slug, kind=kind,
                                  referral_key=referral_key, body=json.dumps(body, ensure_ascii=False, default=str))
    await append_event(case=case, actor=None, actor_role="system", action="mediation_sent",
                       data={"key": key, "to": partner.slug, "kind": kind, "referral": referral_key,
                             **({"milestone": body["milestone"]} if "milestone" in body else {})})
    await enqueue(ACTOR, tenant_id=partner.id, key=key, sender=tenant.slug, sender_name=tenant.name_zh, kind=kind,
                  referral_key=referral_key, body=body if content is None else {**body, "content": content})
    return key


async def milestone(dispute: Dispute, step: str) -> None:
    """Tell the referring district of a milestone of a referred dispute, through an active link
    only (after the link ended, the court's record keeps it; the district's keeps what came)."""
    name = MILESTONES.get(step)
    if not name or not dispute.referral_key or not dispute.referred_from:
        return
    district = await tenant_by_slug(dispute.referred_from)
    if district is None or not await link_active(district.slug):
        return
    await _send(district, "milestone", dispute.referral_key,  # `at`: when it happened, as messages may overtake
                {"milestone": name, "number": dispute.number, "status": dispute.status, "at": now().isoformat()})
