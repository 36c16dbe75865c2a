"""Referrals across a tenant link (转办法院调解): a district refers a case's financial dispute to a
court that serves it, and the court's milestones come back onto the case's timeline.

Nothing is read across the link: each side writes to its own tables and sends the other an
outbox message (:func:`core.sdk.enqueue` addressed to the other tenant), which the worker applies
in the receiving tenant's scope.  A message carries only what the referral form sent (the company
as registered, the creditor, the amount, a summary) or a milestone.  Each message has a key; the
receiver stores it (`LinkMessage`, unique per tenant and direction) in the transaction that applies
it, so a message delivered twice is applied once.  Both tenants append every message to their
hash-chained record: the sender when it sends, the receiver when it applies.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from core.sdk import (
    N_,
    Case,
    Company,
    UserError,
    actor,
    append_event,
    case_attachments,
    current_tenant,
    has_linked_tenant,
    link_active,
    linked_tenants,
    now,
    register_company,
    scoped,
    tenant_by_slug,
    today,
)
from plugins.mediation import files
from plugins.mediation.links import ACTOR, MILESTONES, _send
from plugins.mediation.service import money, next_number, record, text
from plugins.mediation.tables import Dispute, LinkMessage, Party, Referral

EVENT_LABELS = {"mediation_sent": N_("Message sent across the court link"),
                "mediation_moved": N_("Dispute moved to the court's own records"),
                "mediation_moved_in": N_("Dispute received from a district's records"),
                "mediation_received": N_("Message received across the court link"),
                **{f"mediation_{m}": label for m, label in {
                    "accepted": N_("Court: referral accepted"), "declined": N_("Court: referral declined"),
                    "session_held": N_("Court: mediation session held"), "settled": N_("Court: settlement agreed"),
                    "confirmed": N_("Court: judicially confirmed"), "overdue": N_("Court: instalment overdue"),
                    "defaulted": N_("Court: default"), "cured": N_("Court: default cured"),
                    "enforcement": N_("Court: enforcement applied for"), "completed": N_("Court: fully repaid"),
                    "enforced": N_("Court: enforcement concluded")}.items()}}


def can_refer(user) -> bool:
    """Who refers a case to a court: whoever dispatches the district's cases (交办)."""
    return user.can("case.dispatch")


async def courts() -> list:
    """The courts the district in scope has an active link with."""
    return await linked_tenants("court")


async def referable(case) -> bool:
    """Whether the case page offers the referral: the case names a company and a court serves this
    district (the link as of a few seconds ago; the referral itself checks it again)."""
    return case.company is not None and await has_linked_tenant("court")


# -- the district's side ---------------------------------------------------------------------------

async def refer(user, data: dict) -> Referral:
    """Refer a case's financial dispute to a linked court: 403 (and nothing stored) without an
    active link; what crosses is only what this form holds."""
    if not can_refer(user):
        raise UserError(403, "You are not allowed to do this.")
    court_slug = text(data, "court", required=True, limit=63)
    court = await tenant_by_slug(court_slug)
    if court is None or court.kind != "court" or not await link_active(court_slug):
        raise UserError(403, "This district has no active link with the court %(court)s; a referral can go "
                        "only to a court that serves it.", code="no_link", court=court_slug)
    try:
        case_id = int(data.get("case"))
    except (TypeError, ValueError):
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field="case") from None
    case = await scoped(Case).select(Case.id, Case.number, Case.company).where(Case.id == case_id).first()
    if case is None:
        raise UserError(404, "Not found.")
    company = await scoped(Company).select(Company.name, Company.credit_code).where(
        Company.id == case["company"]).first() if case["company"] else None
    if company is None:
        raise UserError(400, "The case names no company yet: attach one before referring it.", code="no_company")
    body = {"creditor": text(data, "creditor", required=True, limit=200),
            "debtor_code": company["credit_code"], "debtor_name": company["name"],
            "principal_fen": money(data, "principal", positive=True),
            "summary": text(data, "summary", required=True, limit=5000)}
    chosen = await _chosen_files(case["id"], data.get("attachments"))
    referral = await send_referral(court, case["id"], body, user.id)
    for attachment_id in chosen:  # each chosen file in a message of its own, with its hash
        meta, encoded = await files.outgoing(case["id"], attachment_id)
        await _send(court, "attachment", referral.key, meta, case=case["id"], content=encoded)
    return referral


async def _chosen_files(case_id: int, raw) -> list[int]:
    """The ids of the case's attachments the referrer ticked (in the case's order); 400 naming the
    field for anything that is not one of them."""
    if raw in (None, "", []):
        return []
    values = raw if isinstance(raw, list) else [raw]
    try:
        wanted = {int(v) for v in values}
    except (TypeError, ValueError):
        wanted = {-1}
    own = [a["id"] for a in await case_attachments(case_id)]
    if not wanted <= set(own):
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field="attachments")
    return [a for a in own if a in wanted]


async def send_referral(court, case_id: int, body: dict, actor_id: int | None) -> Referral:
    """Store the district's referral of `case_id` and send `body` (the form's fields) to `court`."""
    key = str(uuid.uuid4())
    referral = await scoped(Referral).add(key=key, case=case_id, court=court.slug, court_name=court.name_zh,
                                          creditor=body["creditor"], debtor_name=body["debtor_name"],
                                          debtor_code=body["debtor_code"], principal_fen=body["principal_fen"],
                                          summary=body["summary"], status="sent", referred_by=actor_id)
    await append_event(case=case_id, actor=actor_id, actor_role="dispatcher", action="mediation_referral",
                       data={"court": court.slug, "referral": key})
    await _send(court, "referral", key, body, case=case_id)
    return referral


async def _apply_milestone(sender: str, referral_key: str, body: dict) -> None:
    referral = await scoped(Referral).objects().where(Referral.key == referral_key).first()
    if referral is None or referral.court != sender:
        return  # not a referral this district made to that court: nothing of it here
    milestone = str(body.get("milestone") or "")
    if milestone not in MILESTONES.values():
        return
    happened = _moment(body.get("at")) or now()
    if referral.updated_at is None or happened >= referral.updated_at:  # a milestone overtaken never rolls back
        referral.status, referral.updated_at = milestone, happened
    if body.get("number"):
        referral.dispute_number = str(body["number"])[:30]
    await referral.save([Referral.status, Referral.dispute_number, Referral.updated_at])
    await append_event(case=referral.case, actor=None, actor_role="system", action=f"mediation_{milestone}",
                       data={"court": sender, "referral": referral_key, "number": referral.dispute_number})


# -- the court's side ------------------------------------------------------------------------------

async def _apply_referral(sender: str, sender_name: str, referral_key: str, body: dict) -> None:
    company, _ = await register_company(str(body.get("debtor_code") or ""), str(body.get("debtor_name") or ""))
    dispute = await scoped(Dispute).add(
        number=await next_number(today().year), title=f"{body.get('creditor', '')} / {company.name}"[:200],
        debtor=company.id, principal_fen=int(body.get("principal_fen") or 0), court=current_tenant().name_zh,
        status="referred", opened_on=today(), referral_key=referral_key, referred_from=sender,
        referred_from_name=str(sender_name)[:200], summary=str(body.get("summary") or "")[:5000])
    await scoped(Party).add(dispute=dispute.id, role="creditor", name=str(body.get("creditor") or "")[:200])
    await scoped(Party).add(dispute=dispute.id, role="debtor", name=company.name, company=company.id)
    await record(dispute, "referral", None, "", {"from": sender})


# -- receiving -------------------------------------------------------------------------------------

@actor(ACTOR)
async def receive(key: str, sender: str, sender_name: str, kind: str, referral_key: str, body: dict) -> None:
    """Apply a message from a linked tenant, once: its key is stored in the same transaction."""
    if await scoped(LinkMessage).exists().where((LinkMessage.key == key) & (LinkMessage.direction == "in")):
        return  # delivered again: applied already
    kept = {k: v for k, v in body.items() if k != "content"}  # a file's content goes to the store, not here
    await scoped(LinkMessage).add(key=key, direction="in", partner=sender, kind=kind, referral_key=referral_key,
                                  body=json.dumps(kept, ensure_ascii=False, default=str))
    case = None
    if kind == "referral" and current_tenant().kind == "court":
        await _apply_referral(sender, sender_name, referral_key, body)
    elif kind == "attachment" and current_tenant().kind == "court":
        await files.receive_file(key, referral_key, body)
    elif kind == "milestone":
        await _apply_milestone(sender, referral_key, body)
        row = await scoped(Referral).select(Referral.case).where(Referral.key == referral_key).first()
        case = row["case"] if row else None
    await append_event(case=case, actor=None, actor_role="system", action="mediation_received",
                       data={"key": key, "from": sender, "kind": kind, "referral": referral_key,
                             **({"milestone": body["milestone"]} if "milestone" in body else {})})


# -- reading (the district's side) -----------------------------------------------------------------

async def list_referrals() -> list[dict]:
    return await scoped(Referral).select(
        *Referral.all_columns(), Referral.case.number.as_alias("case_number")).order_by(Referral.id, ascending=False)


async def referral_detail(referral_id: int) -> dict:
    row = await scoped(Referral).select(*Referral.all_columns(), Referral.case.number.as_alias("case_number")).where(
        Referral.id == referral_id).first()
    if row is None:
        raise UserError(404, "Not found.")
    messages = await scoped(LinkMessage).select(LinkMessage.direction, LinkMessage.kind, LinkMessage.body,
                                                LinkMessage.created_at).where(
        LinkMessage.referral_key == row["key"]).order_by(LinkMessage.id)
    milestones, sent_files = [], []
    for m in messages:
        if m["direction"] == "out" and m["kind"] == "attachment":  # the files that went with it
            body = json.loads(m["body"])
            sent_files.append({k: body.get(k) for k in ("filename", "size", "sha256")})
        elif m["direction"] == "in" or m["kind"] == "referral":
            body = json.loads(m["body"])
            milestones.append({"milestone": body.get("milestone", "sent"),
                               "at": _moment(body.get("at")) or m["created_at"]})
    row["milestones"] = sorted(milestones, key=lambda m: m["at"])  # as they happened, not as they arrived
    row["files"] = sent_files
    return row


def _moment(value) -> datetime | None:
    """A message's `at` (ISO, with its zone), or None when it has none or it is not one."""
    try:
        moment = datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
    return moment if moment is None or moment.tzinfo else None
