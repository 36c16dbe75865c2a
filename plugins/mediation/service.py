"""Steps of a mediated dispute (和合金融): intake (or referral from a core case), parties,
preservation (保全, 活封 by default), sessions, settlement with an instalment plan that must add up,
judicial confirmation (司法确认), payments, completion (measures lifted) and enforcement (强制执行)
— the latter only after a default.  Every step goes on the plugin's record (`DisputeEvent`), on the
tamper-evident chain and, when the dispute came from a case, on that case's timeline."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from core.sdk import (
    Case,
    Company,
    User,
    UserError,
    append_event,
    company_ids_of,
    current_tenant,
    notify,
    now,
    scoped,
    today,
)
from plugins.mediation.tables import (
    ASSET_LABELS,
    CLOSED,
    OUTCOME_LABELS,
    STATUS_LABELS,
    Dispute,
    DisputeCounter,
    DisputeEvent,
    Measure,
    Party,
    Session,
)

MAX_FEN = 10**15
RESTRICTIONS = {"live": (True, False, False), "transfer_mortgage": (True, True, False), "full": (True, True, True)}


# -- input -----------------------------------------------------------------------------------------

def text(data: dict, key: str, required: bool = False, limit: int = 2000) -> str:
    value = str(data.get(key) or "").strip()
    if (required and not value) or len(value) > limit:
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field=key)
    return value


def money(data: dict, key: str, required: bool = True, positive: bool = False) -> int:
    """An amount in fen: `<key>_fen` as an integer, or `<key>` in yuan (form input, e.g. 1234.56)."""
    raw, fen = (data.get(f"{key}_fen"), True) if data.get(f"{key}_fen") not in (None, "") else (data.get(key), False)
    if raw in (None, ""):
        if required:
            raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field=key)
        return 0
    try:
        if isinstance(raw, bool) or isinstance(raw, float):
            raise InvalidOperation
        amount = Decimal(str(raw).strip().replace(",", ""))
        value = amount if fen else amount * 100
        if value != value.to_integral_value():
            raise InvalidOperation
        value = int(value)
    except (InvalidOperation, ValueError):
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field=key) from None
    if value < 0 or (positive and value == 0):
        raise UserError(400, "The amount must be greater than zero.", code="amount")
    if value > MAX_FEN:
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field=key)
    return value


def day(data: dict, key: str, default: date | None = None) -> date:
    raw = data.get(key)
    if raw in (None, ""):
        if default is None:
            raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field=key)
        return default
    try:
        return date.fromisoformat(str(raw)[:10])
    except ValueError:
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field=key) from None


def moment(data: dict, key: str) -> datetime:
    raw = str(data.get(key) or "").strip()
    if not raw:
        return now()
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field=key) from None
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo("Asia/Shanghai"))


async def user_id_of(username: str) -> int | None:
    if not username:
        return None
    row = await User.select(User.id).where(User.username == username).first()
    if row is None:
        raise UserError(400, "Unknown user: %(username)s.", code="unknown_user", username=username)
    return row["id"]


# -- who sees what ---------------------------------------------------------------------------------

async def visible_ids(user) -> list[int] | None:
    """None: every dispute of the tenant (court staff); else the ids a bank or debtor company sees."""
    if user.can("mediation.view"):
        return None
    ids: set[int] = set()
    if user.can("mediation.view_own"):
        ids |= {r["dispute"] for r in await scoped(Party).select(Party.dispute).where(
            (Party.user == user.id) & (Party.role == "creditor"))}
    if user.has_role("company"):
        companies = await company_ids_of(user.id)
        if companies:
            ids |= {r["id"] for r in await scoped(Dispute).select(Dispute.id).where(Dispute.debtor.is_in(companies))}
    if not ids and not user.can("mediation.view_own") and not user.has_role("company"):
        raise UserError(403, "You are not allowed to do this.")
    return sorted(ids)


async def load(user, dispute_id: int) -> Dispute:
    row = await scoped(Dispute).objects().where(Dispute.id == dispute_id).first()
    if row is None:
        raise UserError(404, "Not found.")
    ids = await visible_ids(user)
    if ids is not None and row.id not in ids:
        raise UserError(404, "Not found.")
    return row


def need(user, permission: str) -> None:
    if not user.can(permission):
        raise UserError(403, "You are not allowed to do this.")


# -- the record ------------------------------------------------------------------------------------

async def record(dispute: Dispute, step: str, actor: int | None, before: str, data: dict | None = None) -> None:
    data = dict(data or {}, dispute=dispute.id, number=dispute.number)
    await scoped(DisputeEvent).add(dispute=dispute.id, step=step, actor=actor, before=before, after=dispute.status,
                                   data=json.dumps(data, ensure_ascii=False, default=str))
    case = await scoped(Case).select(Case.status).where(Case.id == dispute.case).first() if dispute.case else None
    await append_event(case=dispute.case if case else None, actor=actor,
                       actor_role="system" if actor is None else "mediation",
                       action="mediation_referral" if step == "referral" else "mediation",
                       before=case["status"] if case else "", after=case["status"] if case else "",
                       data={"step": step, **{k: v for k, v in data.items() if isinstance(v, (int, str))}})
    if dispute.referral_key:
        from plugins.mediation.links import milestone

        await milestone(dispute, step)


async def tell_parties(dispute: Dispute, message: str, **params) -> None:
    users = {r["user"] for r in await scoped(Party).select(Party.user).where(
        (Party.dispute == dispute.id) & Party.user.is_not_null())}
    from core.sdk import company_users

    users |= set(await company_users(dispute.debtor))
    users |= {u for u in (dispute.mediator, dispute.judge) if u}
    for user_id in sorted(users):
        await notify(user_id, "mediation", message, link=f"mediation/disputes/{dispute.id}",
                     number=dispute.number, **params)


async def _save(dispute: Dispute) -> None:
    dispute.version = (dispute.version or 0) + 1
    await dispute.save()


def _status(dispute: Dispute, *allowed: str) -> None:
    if dispute.status in CLOSED:
        raise UserError(409, "The dispute %(number)s is closed (%(status_label)s); nothing more can be recorded.",
                        code="closed", number=dispute.number, status_label=STATUS_LABELS[dispute.status])
    if dispute.status not in allowed:
        raise UserError(409, "This step is not possible while the dispute is “%(status_label)s”.",
                        code="status", status_label=STATUS_LABELS[dispute.status])


# -- intake ----------------------------------------------------------------------------------------

async def next_number(year: int) -> str:
    """The court's next dispute number of `year` (HH2026-00001 …), from its own counter: one
    conditional update, so parallel intakes each get their own number.  A court's first counter
    of a year starts after the highest number it already gave that year."""
    for _ in range(3):
        rows = await scoped(DisputeCounter).update({DisputeCounter.last: DisputeCounter.last + 1}).where(
            DisputeCounter.year == year).returning(DisputeCounter.last)
        if rows:
            return f"HH{year}-{rows[0]['last']:05d}"
        given = [r["number"] for r in await scoped(Dispute).select(Dispute.number).where(
            Dispute.number.like(f"HH{year}-%"))]
        start = max((int(n.rsplit("-", 1)[1]) for n in given if n.rsplit("-", 1)[1].isdigit()), default=0) + 1
        created = await DisputeCounter.insert(scoped(DisputeCounter).new(year=year, last=start)).on_conflict(
            action="DO NOTHING").returning(DisputeCounter.id)
        if created:  # else another intake created it first: take the next number from its row
            return f"HH{year}-{start:05d}"
    raise RuntimeError("the dispute counter can be neither advanced nor created")


async def intake(user, data: dict) -> Dispute:
    need(user, "mediation.manage")
    code = text(data, "debtor", required=True, limit=18)
    company = await scoped(Company).select(Company.id, Company.name).where(
        (Company.credit_code == code) | (Company.id == (int(code) if code.isdigit() and len(code) < 10 else -1))).first()
    if company is None and text(data, "debtor_name", limit=200):  # a company new to the court's registry
        from core.sdk import register_company

        registered, _ = await register_company(code, text(data, "debtor_name", limit=200))
        company = {"id": registered.id, "name": registered.name}
    if company is None:
        raise UserError(400, "Choose a debtor company from the company registry.", code="unknown_company")
    creditor = text(data, "creditor", required=True, limit=200)
    case_id = data.get("case")
    case = None
    if case_id not in (None, ""):
        try:
            case = await scoped(Case).objects().where(Case.id == int(case_id)).first()
        except (TypeError, ValueError):
            case = None
        if case is None:
            raise UserError(400, "Unknown case.", code="unknown_case")
    values = dict(title=text(data, "title", limit=200) or f"{creditor} / {company['name']}",
                  debtor=company["id"], case=case.id if case else None, principal_fen=money(data, "principal"),
                  interest_fen=money(data, "interest", required=False), costs_fen=money(data, "costs", required=False),
                  court=text(data, "court", limit=100) or current_tenant().name_zh,
                  judge=await user_id_of(text(data, "judge", limit=150)),
                  mediator=await user_id_of(text(data, "mediator", limit=150)), status="mediating", opened_on=today())
    dispute = await scoped(Dispute).add(number=await next_number(today().year), **values)
    await scoped(Party).add(dispute=dispute.id, role="creditor", name=creditor,
                            user=await user_id_of(text(data, "creditor_user", limit=150)))
    await scoped(Party).add(dispute=dispute.id, role="debtor", name=company["name"], company=company["id"])
    for name in data.get("guarantors") or []:
        if str(name).strip():
            await scoped(Party).add(dispute=dispute.id, role="guarantor", name=str(name).strip()[:200])
    await record(dispute, "intake", user.id, "", {"principal_fen": dispute.principal_fen})
    if case is not None:
        await record(dispute, "referral", user.id, "mediating", {"case_number": case.number})
    return dispute


async def accept(user, dispute: Dispute, data: dict) -> None:
    """The court accepts a referred dispute (受理): mediation starts; the district hears of it."""
    need(user, "mediation.manage")
    _status(dispute, "referred")
    before, dispute.status = dispute.status, "mediating"
    dispute.judge = await user_id_of(text(data, "judge", limit=150)) or dispute.judge
    dispute.mediator = await user_id_of(text(data, "mediator", limit=150)) or dispute.mediator
    await _save(dispute)
    await record(dispute, "accept", user.id, before, {})


async def decline(user, dispute: Dispute, data: dict) -> None:
    """The court declines a referred dispute, giving its reason; the district hears of it."""
    need(user, "mediation.manage")
    _status(dispute, "referred")
    reason = text(data, "reason", required=True, limit=2000)
    before, dispute.status, dispute.closed_on = dispute.status, "declined", today()
    await _save(dispute)
    await record(dispute, "decline", user.id, before, {"reason": reason})


async def add_party(user, dispute: Dispute, data: dict) -> None:
    need(user, "mediation.manage")
    _status(dispute, "mediating", "settled", "repaying", "defaulted")
    role = text(data, "role", required=True)
    if role not in ("creditor", "guarantor"):
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field="role")
    party = await scoped(Party).add(dispute=dispute.id, role=role, name=text(data, "name", required=True, limit=200),
                                    user=await user_id_of(text(data, "username", limit=150)))
    await record(dispute, "party", user.id, dispute.status, {"party": party.id, "role": role})


# -- preservation, sessions ------------------------------------------------------------------------

async def impose(user, dispute: Dispute, data: dict) -> Measure:
    need(user, "mediation.manage")
    _status(dispute, "mediating", "settled", "repaying", "defaulted")
    kind = text(data, "asset_kind", required=True)
    restriction = text(data, "restriction") or "live"
    if kind not in ASSET_LABELS or restriction not in RESTRICTIONS:
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid",
                        field="asset_kind" if kind not in ASSET_LABELS else "restriction")
    transfer, mortgage, use = RESTRICTIONS[restriction]
    measure = await scoped(Measure).add(dispute=dispute.id, asset_kind=kind, asset=text(data, "asset", True, 200),
                                        restrict_transfer=transfer, restrict_mortgage=mortgage, restrict_use=use,
                                        imposed_on=day(data, "imposed_on", today()), ordered_by=user.id)
    await record(dispute, "measure", user.id, dispute.status, {"measure": measure.id, "restriction": restriction})
    return measure


async def lift_all(dispute: Dispute, actor: int | None, on: date) -> int:
    rows = await scoped(Measure).update({Measure.lifted_on: on}).where(
        (Measure.dispute == dispute.id) & Measure.lifted_on.is_null()).returning(Measure.id)
    if rows:
        await record(dispute, "lift", actor, dispute.status, {"measures": len(rows)})
    return len(rows)


async def lift(user, dispute: Dispute, data: dict) -> None:
    need(user, "mediation.manage")
    try:
        measure_id = int(data.get("measure"))
    except (TypeError, ValueError):
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field="measure") from None
    rows = await scoped(Measure).update({Measure.lifted_on: day(data, "lifted_on", today())}).where(
        (Measure.id == measure_id) & (Measure.dispute == dispute.id) & Measure.lifted_on.is_null()).returning(Measure.id)
    if not rows:
        raise UserError(409, "This measure is already lifted.", code="lifted")
    await record(dispute, "lift", user.id, dispute.status, {"measure": measure_id})


async def hold_session(user, dispute: Dispute, data: dict) -> Session:
    need(user, "mediation.mediate")
    _status(dispute, "mediating")
    outcome = text(data, "outcome") or "continued"
    if outcome not in OUTCOME_LABELS:
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field="outcome")
    place, link = text(data, "place", limit=200), text(data, "video_link", limit=300)
    if not place and not link:
        raise UserError(400, "Give the place of the session or its video link.", code="place")
    session = await scoped(Session).add(dispute=dispute.id, held_at=moment(data, "held_at"),
                                        place=place, video_link=link, participants=text(data, "participants", limit=2000),
                                        minutes=text(data, "minutes", limit=10000), outcome=outcome)
    await record(dispute, "session", user.id, dispute.status, {"session": session.id, "outcome": outcome})
    return session
