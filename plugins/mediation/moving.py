"""Moving a district's old disputes to its court (迁移至法院): before courts were tenants of their
own, disputes lived in the district's tenant, handled by court accounts there.

``qinqing mediation move-to-court --from luqiao --court luqiao-court [--dry-run]`` recreates each
one in the court's tenant — parties, measures, sessions, agreement, instalments, payments and its
record — and removes the district's copy, in one transaction per dispute.  The court numbers it
afresh from its own counter (per court and year, the year it was opened: ``HH2025-00001`` …);
the old number is kept on the dispute (`former_number`) and on both records.  A dispute that came
from a district case becomes a referral of that case (the district keeps a `Referral`, the court
the same key), so the court's milestones keep reaching the case's timeline.  Only users who are
members of the court keep their place (judge, mediator, a bank's login); the others' names stay
on the record.  Running it again moves nothing: a moved dispute is no longer in the district.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from core.sdk import (
    Case,
    Company,
    Membership,
    User,
    UserError,
    append_event,
    in_tenant_scope,
    link_active,
    register_company,
    scoped,
    tenant_by_slug,
)
from plugins.mediation.service import next_number
from plugins.mediation.tables import (
    Agreement,
    Dispute,
    DisputeEvent,
    Instalment,
    Measure,
    Party,
    Payment,
    Referral,
    Session,
)

CHILDREN = (Party, Measure, Session, Agreement, Instalment, Payment, DisputeEvent)
# The milestone a district's referral shows for a moved dispute, by the dispute's status.
STATUS_MILESTONE = {"referred": "sent", "declined": "declined", "mediating": "accepted", "settled": "settled",
                    "repaying": "confirmed", "completed": "completed", "defaulted": "defaulted",
                    "enforcing": "enforcement", "enforced": "enforced"}


async def _tenants(from_slug: str, court_slug: str):
    district, court = await tenant_by_slug(from_slug), await tenant_by_slug(court_slug)
    if district is None or district.kind == "court":
        raise UserError(404, "No district %(slug)s.", code="unknown_tenant", slug=from_slug)
    if court is None or court.kind != "court" or "mediation" not in court.plugins:
        raise UserError(404, "No court %(slug)s with the mediation module.", code="unknown_tenant", slug=court_slug)
    return district, court


async def _listing() -> list[dict]:
    """The disputes of the district in scope, oldest first, with what each would carry."""
    rows = await scoped(Dispute).select(Dispute.id, Dispute.number, Dispute.title, Dispute.status, Dispute.case,
                                        Dispute.case.number.as_alias("case_number")).order_by(Dispute.id)
    for row in rows:
        for table in (Session, Instalment, Payment, DisputeEvent):
            row[table._meta.tablename.removeprefix("mediation_") + "s"] = await scoped(table).count().where(
                table.dispute == row["id"])
    return rows


async def move_to_court(from_slug: str, court_slug: str, dry_run: bool = False) -> list[dict]:
    """Move every dispute of the district `from_slug` to the court `court_slug` (or, with `dry_run`,
    list what would move, changing nothing); returns one line per dispute."""
    district, court = await _tenants(from_slug, court_slug)
    async with in_tenant_scope(district, write=False):
        if not await link_active(court.slug):
            raise UserError(409, "%(district)s and %(court)s have no active link: a dispute can move only to a "
                            "court that serves the district.", code="no_link", district=district.slug, court=court.slug)
        listing = await _listing()
    if dry_run:
        return listing
    moved = []
    for item in listing:
        async with in_tenant_scope(district, write=True):  # one transaction per dispute, both tenants in it
            done = await _move_one(district, court, item["id"])
        if done is not None:
            moved.append({**item, **done})
    return moved


async def _read(dispute_id: int) -> dict[str, Any] | None:
    """Claim the district's dispute (a conditional update: a second mover waits, then finds it gone)
    and read it whole."""
    claimed = await scoped(Dispute).update({Dispute.version: Dispute.version + 1}).where(
        Dispute.id == dispute_id).returning(Dispute.id)
    if not claimed:
        return None
    data: dict[str, Any] = {"dispute": await scoped(Dispute).select().where(Dispute.id == dispute_id).first()}
    for table in CHILDREN:
        data[table._meta.tablename] = await scoped(table).select().where(table.dispute == dispute_id).order_by(
            table._meta.primary_key)
    company_ids = {data["dispute"]["debtor"]} | {p["company"] for p in data["mediation_party"] if p["company"]}
    data["companies"] = {r["id"]: r for r in await scoped(Company).select(
        Company.id, Company.credit_code, Company.name).where(Company.id.is_in(sorted(company_ids)))}
    case_id = data["dispute"]["case"]
    data["case_number"] = (await scoped(Case).select(Case.number).where(Case.id == case_id).first() or {}).get(
        "number") if case_id else None
    return data


def _user_ids(data: dict) -> set[int]:
    d = data["dispute"]
    ids = {d["judge"], d["mediator"]}
    ids |= {p["user"] for p in data["mediation_party"]} | {m["ordered_by"] for m in data["mediation_measure"]}
    ids |= {a["confirmed_by"] for a in data["mediation_agreement"]} | {p["recorded_by"] for p in data["mediation_payment"]}
    ids |= {e["actor"] for e in data["mediation_event"]}
    return {i for i in ids if i}


def _copy(row: dict, *drop: str, **values) -> dict:
    return {**{k: v for k, v in row.items() if k not in ("id", "tenant_id", "dispute", *drop)}, **values}


async def _move_one(district, court, dispute_id: int) -> dict | None:
    data = await _read(dispute_id)
    if data is None:
        return None  # moved meanwhile by another run
    old = data["dispute"]
    ids = _user_ids(data)
    names = {r["id"]: r["display_name"] for r in await User.select(User.id, User.display_name).where(
        User.id.is_in(sorted(ids)))} if ids else {}
    referral_key = str(uuid.uuid4()) if old["case"] else ""
    async with in_tenant_scope(court, write=True):
        number = await _recreate(district, court, data, ids, names, referral_key)
    if referral_key:  # the district's case keeps hearing of it, as of a referral
        creditor = next((p["name"] for p in data["mediation_party"] if p["role"] == "creditor"), "")
        debtor = data["companies"].get(old["debtor"]) or {"name": "", "credit_code": ""}
        await scoped(Referral).add(key=referral_key, case=old["case"], court=court.slug, court_name=court.name_zh,
                                   creditor=creditor[:200], debtor_name=debtor["name"][:200],
                                   debtor_code=debtor["credit_code"][:18], principal_fen=old["principal_fen"],
                                   summary=old["summary"] or old["title"], dispute_number=number,
                                   status=STATUS_MILESTONE.get(old["status"], "accepted"), referred_by=None,
                                   created_at=old["created_at"])
    await append_event(case=old["case"], actor=None, actor_role="system", action="mediation_moved",
                       data={"court": court.slug, "former_number": old["number"], "number": number,
                             "referral": referral_key})
    for table in reversed(CHILDREN):  # children first (the district's copy goes whole)
        await scoped(table).delete().where(table.dispute == dispute_id)
    await scoped(Dispute).delete().where(Dispute.id == dispute_id)
    return {"number": number, "former_number": old["number"], "referral": referral_key}


async def _recreate(district, court, data: dict, ids: set[int], names: dict, referral_key: str) -> str:
    """In the court's scope: the dispute and everything of it, numbered by the court; its number."""
    old = data["dispute"]
    members = {r["user"] for r in await scoped(Membership).select(Membership.user).where(
        Membership.user.is_in(sorted(ids)))} if ids else set()

    def keep(user_id):
        return user_id if user_id in members else None

    companies = {}
    for old_id, c in data["companies"].items():
        companies[old_id] = (await register_company(c["credit_code"], c["name"]))[0].id
    opened = old["opened_on"] or old["created_at"].date()
    number = await next_number(opened.year)
    dispute = await scoped(Dispute).add(**_copy(
        old, "version", "case", number=number, former_number=old["number"], debtor=companies[old["debtor"]],
        judge=keep(old["judge"]), mediator=keep(old["mediator"]), court=court.name_zh, referral_key=referral_key,
        referred_from=district.slug, referred_from_name=district.name_zh))
    for p in data["mediation_party"]:
        await scoped(Party).add(**_copy(p, dispute=dispute.id, user=keep(p["user"]),
                                        company=companies.get(p["company"]) if p["company"] else None))
    for m in data["mediation_measure"]:
        await scoped(Measure).add(**_copy(m, dispute=dispute.id, ordered_by=keep(m["ordered_by"])))
    for s in data["mediation_session"]:
        await scoped(Session).add(**_copy(s, dispute=dispute.id))
    for a in data["mediation_agreement"]:
        await scoped(Agreement).add(**_copy(a, dispute=dispute.id, confirmed_by=keep(a["confirmed_by"])))
    instalments = {}
    for i in data["mediation_instalment"]:
        instalments[i["id"]] = (await scoped(Instalment).add(**_copy(i, dispute=dispute.id))).id
    for p in data["mediation_payment"]:
        await scoped(Payment).add(**_copy(p, dispute=dispute.id, recorded_by=keep(p["recorded_by"]),
                                          instalment=instalments.get(p["instalment"])))
    for e in data["mediation_event"]:
        record = json.loads(e["data"] or "{}")
        record.update(dispute=dispute.id, number=number)
        if e["actor"] and e["actor"] not in members:
            record["actor_name"] = names.get(e["actor"], "")  # a district account: its name, not its id
        await scoped(DisputeEvent).add(**_copy(e, dispute=dispute.id, actor=keep(e["actor"]),
                                               data=json.dumps(record, ensure_ascii=False, default=str)))
    moved = {"from": district.slug, "former_number": old["number"], "number": number}
    await scoped(DisputeEvent).add(dispute=dispute.id, step="moved", actor=None, before=old["status"],
                                   after=old["status"], data=json.dumps(moved, ensure_ascii=False))
    await append_event(case=None, actor=None, actor_role="system", action="mediation_moved_in", data=moved)
    return number


def register(msub) -> None:
    """Add `mediation move-to-court --from SLUG --court SLUG [--dry-run]` to the mediation command."""
    p = msub.add_parser("move-to-court", help="move a district's old disputes to the court tenant that serves it")
    p.add_argument("--from", dest="district", required=True, help="the district tenant's slug")
    p.add_argument("--court", required=True, help="the court tenant's slug")
    p.add_argument("--dry-run", action="store_true", help="list what would move, change nothing")
    p.set_defaults(func=cli_move)


def cli_move(args) -> None:
    import asyncio
    import sys

    try:
        rows = asyncio.run(move_to_court(args.district, args.court, args.dry_run))
    except UserError as exc:
        sys.exit(f"mediation move-to-court: {exc.message()}")
    verb = "would move" if args.dry_run else "moved"
    print(f"{args.district} → {args.court}: {verb} {len(rows)} dispute(s)")
    for r in rows:
        to = "" if args.dry_run else f" → {r['number']}"
        case = f", case {r['case_number']} as a referral" if r.get("case_number") else ""
        print(f"  {r['former_number'] if not args.dry_run else r['number']}{to}  {r['status']}  "
              f"(sessions {r['sessions']}, instalments {r['instalments']}, payments {r['payments']}, "
              f"events {r['events']}{case})")
