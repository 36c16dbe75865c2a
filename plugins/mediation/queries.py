"""Reading disputes: the docket, one dispute with everything about it, the court's figures
(including the survival rate: disputes resolved without enforcement over all resolved) and the
XLSX export."""

from __future__ import annotations

import io
import json

from openpyxl import Workbook

from core.sdk import N_, gettext, page_window, scoped, xlsx_row, yuan
from plugins.mediation import files
from plugins.mediation.service import load, visible_ids
from plugins.mediation.tables import (
    STATUS_LABELS,
    Agreement,
    Dispute,
    DisputeEvent,
    Instalment,
    Measure,
    Party,
    Payment,
    Session,
)

COLUMNS = (Dispute.id, Dispute.number, Dispute.title, Dispute.status, Dispute.principal_fen, Dispute.interest_fen,
           Dispute.costs_fen, Dispute.settled_fen, Dispute.court, Dispute.opened_on, Dispute.closed_on, Dispute.case,
           Dispute.version, Dispute.enforcement_outcome, Dispute.enforcement_recovered_fen, Dispute.debtor,
           Dispute.debtor.name.as_alias("debtor_name"), Dispute.mediator.display_name.as_alias("mediator_name"),
           Dispute.judge.display_name.as_alias("judge_name"), Dispute.case.number.as_alias("case_number"),
           Dispute.referred_from, Dispute.referred_from_name, Dispute.summary, Dispute.referral_key,
           Dispute.former_number)
OPEN = ("referred", "mediating", "settled", "repaying", "defaulted", "enforcing")


PER_PAGE = 50


async def list_disputes(user, status: str = "", mine: bool = False, page: int = 1,
                        per_page: int = PER_PAGE) -> list[dict]:
    """One page of the disputes this user may see, newest first."""
    rows, _ = await disputes_page(user, status, mine, page, per_page)
    return rows


async def disputes_page(user, status: str = "", mine: bool = False, page: int = 1,
                        per_page: int = PER_PAGE) -> tuple[list[dict], int]:
    """The docket (案件列表) a page at a time, and how many disputes match in all."""
    page, per_page = page_window(page, per_page)
    ids = await visible_ids(user)
    clauses = []
    if ids is not None:
        clauses.append(Dispute.id.is_in(ids or [-1]))
    if status in STATUS_LABELS:
        clauses.append(Dispute.status == status)
    if mine:
        clauses.append(Dispute.mediator == user.id)
    query, counted = scoped(Dispute).select(*COLUMNS), scoped(Dispute).count()
    for clause in clauses:
        query, counted = query.where(clause), counted.where(clause)
    total = await counted
    rows = await query.order_by(Dispute.id, ascending=False).offset((page - 1) * per_page).limit(per_page)
    creditors = {}
    if rows:
        for p in await scoped(Party).select(Party.dispute, Party.name).where(
                Party.dispute.is_in([r["id"] for r in rows]) & (Party.role == "creditor")):
            creditors.setdefault(p["dispute"], p["name"])
    for r in rows:
        r["creditor"] = creditors.get(r["id"], "")
        r["claimed_fen"] = (r["principal_fen"] or 0) + (r["interest_fen"] or 0) + (r["costs_fen"] or 0)
    return rows, total


async def detail(user, dispute_id: int) -> dict:
    await load(user, dispute_id)  # 404 for another tenant's id or a dispute this user may not see
    row = await scoped(Dispute).select(*COLUMNS).where(Dispute.id == dispute_id).first()
    row["claimed_fen"] = row["principal_fen"] + row["interest_fen"] + row["costs_fen"]
    of = lambda table: scoped(table).select().where(table.dispute == dispute_id)  # noqa: E731
    row["parties"] = await of(Party).order_by(Party.id)
    row["measures"] = await of(Measure).order_by(Measure.id)
    row["sessions"] = await of(Session).order_by(Session.id)
    row["agreement"] = await of(Agreement).first()
    row["instalments"] = await of(Instalment).order_by(Instalment.seq)
    row["payments"] = await of(Payment).order_by(Payment.id)
    events = await scoped(DisputeEvent).select(
        DisputeEvent.id, DisputeEvent.step, DisputeEvent.before, DisputeEvent.after, DisputeEvent.data,
        DisputeEvent.created_at, DisputeEvent.actor.display_name.as_alias("actor_name")).where(
        DisputeEvent.dispute == dispute_id).order_by(DisputeEvent.id)
    for e in events:
        e["data"] = json.loads(e["data"] or "{}")
    row["events"] = events
    row["paid_fen"] = sum(p["amount_fen"] for p in row["payments"])
    row["files"] = await files.of_dispute(row) if user.can("mediation.view") else []  # the court's staff only
    return row


def _rate(survived: int, resolved: int) -> float | None:
    return round(survived / resolved, 4) if resolved else None


async def figures() -> dict:
    """The court's figures over every dispute of the tenant, and the survival rate (disputes resolved
    without enforcement over all resolved) overall and per referring district."""
    rows = await scoped(Dispute).select(Dispute.status, Dispute.principal_fen, Dispute.interest_fen,
                                        Dispute.costs_fen, Dispute.referred_from, Dispute.referred_from_name)
    counts = {key: 0 for key in STATUS_LABELS}
    amount = 0
    districts: dict[str, dict] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
        if r["status"] in OPEN:
            amount += r["principal_fen"] + r["interest_fen"] + r["costs_fen"]
        if r["status"] in ("completed", "enforced"):
            d = districts.setdefault(r["referred_from"] or "", {"district": r["referred_from"] or "",
                                                                "name": r["referred_from_name"] or "",
                                                                "survived": 0, "resolved": 0})
            d["resolved"] += 1
            d["survived"] += r["status"] == "completed"
    for d in districts.values():
        d["survival_rate"] = _rate(d["survived"], d["resolved"])
    resolved = counts["completed"] + counts["enforced"]
    return dict(total=len(rows), referred=counts["referred"], open=counts["mediating"], settled=counts["settled"],
                repaying=counts["repaying"], defaulted=counts["defaulted"], enforcing=counts["enforcing"],
                enforced=counts["enforced"], completed=counts["completed"], resolved=resolved,
                survived=counts["completed"], amount_fen=amount, amount=yuan(amount),
                survival_rate=_rate(counts["completed"], resolved),
                by_district=sorted(districts.values(), key=lambda d: (d["district"] == "", d["district"])))


EXPORT_COLUMNS = [("number", N_("Number")), ("title", N_("Title")), ("creditor", N_("Creditor")),
                  ("debtor_name", N_("Debtor company")), ("status", N_("Status")), ("claimed", N_("Claimed (yuan)")),
                  ("settled", N_("Settled (yuan)")), ("court", N_("Court")), ("mediator_name", N_("Mediator")),
                  ("opened_on", N_("Opened")), ("closed_on", N_("Closed")), ("case_number", N_("Case"))]


async def _every_dispute(user) -> list[dict]:
    """Every dispute this user may see, newest first, read 200 at a time."""
    rows, number = [], 1
    while True:
        batch = await list_disputes(user, page=number, per_page=200)
        rows += batch
        if len(batch) < 200:
            return rows
        number += 1


async def export_xlsx(user) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(gettext(N_("Disputes")))
    ws.append([gettext(label) for _, label in EXPORT_COLUMNS])
    for r in await _every_dispute(user):
        r = dict(r, status=gettext(STATUS_LABELS.get(r["status"], r["status"])), claimed=r["claimed_fen"] / 100,
                 settled=(r["settled_fen"] or 0) / 100)
        ws.append(xlsx_row(ws, [str(r[k]) if k in ("opened_on", "closed_on") and r[k] else r[k]
                                for k, _ in EXPORT_COLUMNS]))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def as_day(value):
    from datetime import date

    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


async def desk() -> dict:
    """The court's desk (法院工作台): referrals waiting to be accepted, this week's sessions, instalments
    due in the coming week and overdue, defaults in grace (overdue, grace not yet run out), and the
    survival rate overall and per referring district."""
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from core.sdk import tenant_setting, today

    day = today()
    grace = int(tenant_setting("mediation_grace_days", 15))
    monday = day - timedelta(days=day.weekday())
    tz = ZoneInfo("Asia/Shanghai")
    week = (datetime.combine(monday, time(), tz), datetime.combine(monday + timedelta(days=7), time(), tz))
    waiting = await scoped(Dispute).select(Dispute.id, Dispute.number, Dispute.title, Dispute.referred_from_name,
                                           Dispute.opened_on).where(Dispute.status == "referred").order_by(Dispute.id)
    sessions = await scoped(Session).select(
        Session.dispute, Session.held_at, Session.place, Session.video_link, Session.outcome,
        Session.dispute.number.as_alias("number")).where(
        (Session.held_at >= week[0]) & (Session.held_at < week[1])).order_by(Session.held_at)
    unpaid = await scoped(Instalment).select(
        Instalment.dispute, Instalment.seq, Instalment.due_on, Instalment.amount_fen, Instalment.paid_fen,
        Instalment.dispute.number.as_alias("number"), Instalment.dispute.status.as_alias("dispute_status")).where(
        (Instalment.status != "paid") & Instalment.dispute.status.is_in(["repaying", "defaulted"])
        & (Instalment.due_on <= day + timedelta(days=7))).order_by(Instalment.due_on)
    due, overdue, in_grace = [], [], {}
    for row in unpaid:
        when = as_day(row["due_on"])
        row["owed_fen"] = row["amount_fen"] - row["paid_fen"]
        row["owed"] = yuan(row["owed_fen"])
        if when >= day:
            due.append(row)
            continue
        overdue.append(row)
        if row["dispute_status"] == "repaying" and day <= when + timedelta(days=grace):
            in_grace.setdefault(row["dispute"], {"dispute": row["dispute"], "number": row["number"],
                                                 "grace_ends": when + timedelta(days=grace)})
    return {"today": day, "waiting": waiting, "sessions": sessions, "due": due, "overdue": overdue,
            "in_grace": sorted(in_grace.values(), key=lambda r: r["grace_ends"]), "figures": await figures()}
