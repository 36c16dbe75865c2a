"""Settlement (调解协议) with its instalment plan, judicial confirmation (司法确认), payments,
completion, the daily repayment sweep (due, overdue, reminders, default after the grace period)
and enforcement (强制执行), which exists only as the result of a default."""

from __future__ import annotations

from datetime import date, timedelta

from core.sdk import N_, UserError, scoped, tenant_setting, today
from plugins.mediation.service import _save, _status, day, lift_all, money, need, record, tell_parties, text, yuan
from plugins.mediation.tables import Agreement, Dispute, Instalment, Payment

DUE_SOON = N_("Dispute %(number)s: instalment %(seq)s of %(amount)s yuan is due on %(due)s.")
DEFAULTED = N_("Dispute %(number)s is in default; the enforcement step is open.")
COMPLETED = N_("Dispute %(number)s is fully repaid; the preservation measures are lifted.")


def as_date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


async def settle(user, dispute: Dispute, data: dict) -> Agreement:
    """The agreement and its plan: the instalments must add up to the settled sum."""
    need(user, "mediation.mediate")
    _status(dispute, "mediating")
    settled = money(data, "settled", positive=True)
    plan = data.get("plan")
    if isinstance(plan, str):  # from a form: one "YYYY-MM-DD amount-in-yuan" per line
        rows = []
        for line in plan.splitlines():
            if line.strip():
                parts = line.replace(",", " ").replace("，", " ").split()
                rows.append({"due_on": parts[0], "amount": parts[1] if len(parts) > 1 else ""})
        plan = rows
    if not isinstance(plan, list) or not plan or len(plan) > 120:
        raise UserError(400, "Give an instalment plan of 1 to 120 instalments.", code="plan")
    items, last = [], None
    for entry in plan:
        if not isinstance(entry, dict):
            raise UserError(400, "Give an instalment plan of 1 to 120 instalments.", code="plan")
        due, amount = day(entry, "due_on"), money(entry, "amount", positive=True)
        if last is not None and due <= last:
            raise UserError(400, "The instalment dates must be in order, one after another.", code="plan_dates")
        items.append((due, amount))
        last = due
    total = sum(a for _, a in items)
    if total != settled:
        raise UserError(400, "The instalments add up to %(total)s yuan but the settled sum is %(settled)s yuan.",
                        code="plan_total", total=yuan(total), settled=yuan(settled))
    agreement = await scoped(Agreement).add(dispute=dispute.id, terms=text(data, "terms", True, 20000),
                                            settled_fen=settled, signed_on=day(data, "signed_on", today()))
    await scoped(Instalment).insert(*({"dispute": dispute.id, "seq": i, "due_on": due, "amount_fen": amount}
                                      for i, (due, amount) in enumerate(items, 1)))
    before, dispute.status, dispute.settled_fen = dispute.status, "settled", settled
    await _save(dispute)
    await record(dispute, "settle", user.id, before, {"settled_fen": settled, "instalments": len(items)})
    return agreement


async def confirm(user, dispute: Dispute, data: dict) -> None:
    """Judicial confirmation (司法确认) of the agreement; repayment starts."""
    need(user, "mediation.judge")
    _status(dispute, "settled")
    ref = text(data, "ref", required=True, limit=100)
    on = day(data, "confirmed_on", today())
    await scoped(Agreement).update({Agreement.confirmed_on: on, Agreement.confirmation_ref: ref,
                                    Agreement.confirmed_by: user.id}).where(Agreement.dispute == dispute.id)
    before, dispute.status = dispute.status, "repaying"
    await _save(dispute)
    await record(dispute, "confirm", user.id, before, {"ref": ref})


async def pay(user, dispute: Dispute, data: dict) -> Payment:
    """A payment, applied to the given instalment (or the earliest unpaid) and then the next ones."""
    need(user, "mediation.manage")
    amount = money(data, "amount", positive=True)
    _status(dispute, "repaying")
    open_rows = await scoped(Instalment).objects().where(
        (Instalment.dispute == dispute.id) & (Instalment.status != "paid")).order_by(Instalment.seq)
    seq = data.get("instalment")
    if seq not in (None, ""):
        try:
            seq = int(seq)
        except (TypeError, ValueError):
            seq = -1
        if seq not in {r.seq for r in open_rows}:
            raise UserError(400, "This instalment is unknown or already paid.", code="instalment")
        open_rows = [r for r in open_rows if r.seq >= seq]
    remaining = sum(r.amount_fen - r.paid_fen for r in open_rows)
    if amount > remaining:
        raise UserError(400, "The payment of %(amount)s yuan is more than the %(remaining)s yuan still owed.",
                        code="overpaid", amount=yuan(amount), remaining=yuan(remaining))
    on = day(data, "paid_on", today())
    payment = await scoped(Payment).add(dispute=dispute.id, instalment=open_rows[0].id, amount_fen=amount,
                                        paid_on=on, recorded_by=user.id, note=text(data, "note", limit=300))
    left, late = amount, False
    for row in open_rows:
        if left <= 0:
            break
        part = min(left, row.amount_fen - row.paid_fen)
        row.paid_fen += part
        left -= part
        if row.paid_fen >= row.amount_fen:
            row.status, row.paid_on = "paid", on
            row.late = on > as_date(row.due_on)
            late = late or row.late
        await row.save()
    await record(dispute, "pay", user.id, dispute.status,
                 {"payment": payment.id, "amount_fen": amount, "instalment": open_rows[0].seq, "late": int(late)})
    if await scoped(Instalment).count().where((Instalment.dispute == dispute.id) & (Instalment.status != "paid")) == 0:
        await complete(dispute, user.id, on)
    return payment


async def complete(dispute: Dispute, actor: int | None, on: date) -> None:
    before, dispute.status, dispute.closed_on = dispute.status, "completed", on
    await _save(dispute)
    await record(dispute, "complete", actor, before, {})
    await lift_all(dispute, actor, on)
    await tell_parties(dispute, COMPLETED)


async def enforce(user, dispute: Dispute, data: dict) -> None:
    """Compulsory enforcement, only after a default: its outcome closes the dispute."""
    need(user, "mediation.judge")
    if dispute.status != "defaulted":
        if dispute.status in ("completed", "enforced"):
            _status(dispute)
        raise UserError(409, "Enforcement is possible only after a default.", code="no_default")
    dispute.enforcement_outcome = text(data, "outcome", required=True, limit=5000)
    dispute.enforcement_recovered_fen = money(data, "recovered", required=False)
    before, dispute.status, dispute.closed_on = dispute.status, "enforced", day(data, "closed_on", today())
    await _save(dispute)
    await record(dispute, "enforce", user.id, before, {"recovered_fen": dispute.enforcement_recovered_fen})


# -- the daily sweep ---------------------------------------------------------------------------------

async def sweep(on: date | None = None) -> dict:
    """Mark instalments due/overdue, remind before the due date, flag a default after the grace
    period. Idempotent: each change happens once (flags and statuses are checked first)."""
    on = on or today()
    notice_days = int(tenant_setting("mediation_notice_days", 3))
    grace = int(tenant_setting("mediation_grace_days", 15))
    counts = {"reminded": 0, "due": 0, "overdue": 0, "defaulted": 0}
    disputes = {d.id: d for d in await scoped(Dispute).objects().where(Dispute.status == "repaying")}
    if not disputes:
        return counts
    rows = await scoped(Instalment).objects().where(
        Instalment.dispute.is_in(list(disputes)) & (Instalment.status != "paid")).order_by(Instalment.seq)
    for row in rows:
        dispute, due = disputes[row.dispute], as_date(row.due_on)
        if dispute.status != "repaying":
            continue
        if not row.notified and due - timedelta(days=notice_days) <= on <= due:
            row.notified = True
            await row.save([Instalment.notified])
            await tell_parties(dispute, DUE_SOON, seq=row.seq, amount=yuan(row.amount_fen - row.paid_fen),
                               due=due.isoformat())
            counts["reminded"] += 1
        status = "overdue" if on > due else "due" if on == due else row.status
        if status != row.status:
            row.status = status
            await row.save([Instalment.status])
            await record(dispute, status, None, dispute.status, {"instalment": row.seq})
            counts[status] += 1
        if on > due + timedelta(days=grace):
            dispute.status, dispute.defaulted_on = "defaulted", on
            await _save(dispute)
            await record(dispute, "default", None, "repaying", {"instalment": row.seq, "grace_days": grace})
            await tell_parties(dispute, DEFAULTED)
            counts["defaulted"] += 1
    return counts
