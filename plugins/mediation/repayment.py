"""Settlement (调解协议) with its instalment plan, judicial confirmation (司法确认), payments,
completion, the daily repayment sweep (due, overdue, reminders, default after the grace period)
and enforcement (强制执行), which exists only as the result of a default."""

from __future__ import annotations

from datetime import date, timedelta

from core.sdk import N_, UserError, scoped, tenant_setting, today, yuan
from plugins.mediation.service import _save, _status, day, lift_all, money, need, record, tell_parties, text
from plugins.mediation.tables import CLOSED, Agreement, Dispute, Instalment, Payment

DUE_SOON = N_("Dispute %(number)s: instalment %(seq)s of %(amount)s yuan is due on %(due)s.")
DEFAULTED = N_("Dispute %(number)s is in default; the enforcement step is open.")
COMPLETED = N_("Dispute %(number)s is fully repaid; the preservation measures are lifted.")
CURED = N_("Dispute %(number)s: everything overdue is paid; the default is cured and repayment goes on.")


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
    signed = day(data, "signed_on", today())
    items, last = [], None
    for i, entry in enumerate(plan):
        if not isinstance(entry, dict):
            raise UserError(400, "Give an instalment plan of 1 to 120 instalments.", code="plan")
        field = f"plan[{i}].due_on"
        due, amount = day(entry, "due_on"), money(entry, "amount", positive=True)
        if due < signed:
            raise UserError(400, "%(field)s: instalment %(seq)s falls due on %(due)s, before the agreement is "
                            "signed (%(signed)s).", code="plan_before_signing", field=field, seq=i + 1,
                            due=due.isoformat(), signed=signed.isoformat())
        if last is not None and due <= last:
            raise UserError(400, "%(field)s: instalment %(seq)s falls due on %(due)s, not after the one before "
                            "it (%(previous)s); the dates must increase.", code="plan_dates", field=field,
                            seq=i + 1, due=due.isoformat(), previous=last.isoformat())
        items.append((due, amount))
        last = due
    total = sum(a for _, a in items)
    if total != settled:
        raise UserError(400, "The instalments add up to %(total)s yuan but the settled sum is %(settled)s yuan.",
                        code="plan_total", total=yuan(total), settled=yuan(settled))
    agreement = await scoped(Agreement).add(dispute=dispute.id, terms=text(data, "terms", True, 20000),
                                            settled_fen=settled, signed_on=signed)
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
    """A payment, applied to the given instalment (or the earliest unpaid) and then the next ones.

    During a default, a payment that leaves nothing overdue cures it (the record keeps both the
    default and the cure); once enforcement is applied for, payments go against the enforcement."""
    need(user, "mediation.manage")
    amount = money(data, "amount", positive=True)
    _status(dispute, "repaying", "defaulted", "enforcing")
    on = day(data, "paid_on", today())
    if dispute.status == "enforcing":
        payment = await scoped(Payment).add(dispute=dispute.id, amount_fen=amount, paid_on=on, recorded_by=user.id,
                                            note=text(data, "note", limit=300), against="enforcement")
        dispute.enforcement_recovered_fen = (dispute.enforcement_recovered_fen or 0) + amount
        await _save(dispute)
        await record(dispute, "pay", user.id, dispute.status,
                     {"payment": payment.id, "amount_fen": amount, "against": "enforcement"})
        return payment
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
    unpaid = await scoped(Instalment).select(Instalment.due_on, Instalment.status).where(
        (Instalment.dispute == dispute.id) & (Instalment.status != "paid"))
    if not unpaid:
        await complete(dispute, user.id, on)
    elif dispute.status == "defaulted" and not any(
            r["status"] == "overdue" or as_date(r["due_on"]) < on for r in unpaid):  # nothing overdue left
        before, dispute.status = dispute.status, "repaying"
        await _save(dispute)
        await record(dispute, "cure", user.id, before, {"defaulted_on": str(dispute.defaulted_on or "")})
        await tell_parties(dispute, CURED)
    return payment


async def complete(dispute: Dispute, actor: int | None, on: date) -> None:
    before, dispute.status, dispute.closed_on = dispute.status, "completed", on
    await _save(dispute)
    await record(dispute, "complete", actor, before, {})
    await lift_all(dispute, actor, on)
    await tell_parties(dispute, COMPLETED)


async def enforce(user, dispute: Dispute, data: dict) -> None:
    """Applying for compulsory enforcement (申请强制执行), only after a default: from then on a
    payment is recorded against the enforcement, and a default can no longer be cured."""
    need(user, "mediation.judge")
    if dispute.status != "defaulted":
        if dispute.status in CLOSED:
            _status(dispute)
        raise UserError(409, "Enforcement is possible only after a default.", code="no_default")
    before, dispute.status = dispute.status, "enforcing"
    await _save(dispute)
    await record(dispute, "enforce", user.id, before, {})


async def conclude(user, dispute: Dispute, data: dict) -> None:
    """The outcome of enforcement (执行终结), which closes the dispute; what was recovered defaults to
    the payments recorded against the enforcement."""
    need(user, "mediation.judge")
    _status(dispute, "enforcing")
    dispute.enforcement_outcome = text(data, "outcome", required=True, limit=5000)
    recovered = money(data, "recovered", required=False)
    dispute.enforcement_recovered_fen = max(recovered, dispute.enforcement_recovered_fen or 0)
    before, dispute.status, dispute.closed_on = dispute.status, "enforced", day(data, "closed_on", today())
    await _save(dispute)
    await record(dispute, "conclude", user.id, before, {"recovered_fen": dispute.enforcement_recovered_fen})


# -- the daily sweep ---------------------------------------------------------------------------------

def local_day() -> date:
    """Today on the court's calendar (Asia/Shanghai), whatever the server's or UTC's date."""
    return today()


async def plan_sweep(on: date) -> list[dict]:
    """What the sweep of day `on` would change, in order; reads only.  Each change is
    ``{dispute, number, instalment, change}`` with change one of remind, due, overdue, default."""
    notice_days = int(tenant_setting("mediation_notice_days", 3))
    grace = int(tenant_setting("mediation_grace_days", 15))
    disputes = {d["id"]: d["number"] for d in await scoped(Dispute).select(Dispute.id, Dispute.number).where(
        Dispute.status == "repaying")}
    if not disputes:
        return []
    rows = await scoped(Instalment).select().where(
        Instalment.dispute.is_in(list(disputes)) & (Instalment.status != "paid")).order_by(
        Instalment.dispute, Instalment.seq)
    changes, defaulted = [], set()
    for row in rows:
        if row["dispute"] in defaulted:
            continue
        due = as_date(row["due_on"])
        base = {"dispute": row["dispute"], "number": disputes[row["dispute"]], "instalment": row["seq"]}
        if not row["notified"] and due - timedelta(days=notice_days) <= on <= due:
            changes.append({**base, "change": "remind", "due_on": due.isoformat()})
        status = "overdue" if on > due else "due" if on == due else row["status"]
        if RANK.get(status, 0) > RANK.get(row["status"], 0):  # forward only, even for a day in the past
            changes.append({**base, "change": status, "due_on": due.isoformat()})
        if on > due + timedelta(days=grace):
            changes.append({**base, "change": "default", "due_on": due.isoformat()})
            defaulted.add(row["dispute"])
    return changes


RANK = {"pending": 0, "due": 1, "overdue": 2}
COUNTS = {"remind": "reminded", "due": "due", "overdue": "overdue", "default": "defaulted"}


async def sweep(on: date | None = None, dry_run: bool = False) -> dict:
    """The repayment sweep of day `on` (the court's today by default): instalments due or overdue,
    reminders before the due date, a default once the grace period has run out.  With `dry_run`
    it only lists what it would change; otherwise it makes exactly those changes.  Idempotent:
    each change happens once (flags and statuses are checked first)."""
    on = on or local_day()
    grace = int(tenant_setting("mediation_grace_days", 15))
    changes = await plan_sweep(on)
    counts = {"reminded": 0, "due": 0, "overdue": 0, "defaulted": 0}
    for change in changes:
        counts[COUNTS[change["change"]]] += 1
    result = {**counts, "on": on.isoformat(), "dry_run": dry_run, "changes": changes}
    if dry_run or not changes:
        return result
    disputes = {d.id: d for d in await scoped(Dispute).objects().where(
        Dispute.id.is_in(sorted({c["dispute"] for c in changes})))}
    rows = {(r.dispute, r.seq): r for r in await scoped(Instalment).objects().where(
        Instalment.dispute.is_in(list(disputes)))}
    for change in changes:
        dispute, row = disputes[change["dispute"]], rows[(change["dispute"], change["instalment"])]
        kind = change["change"]
        if kind == "remind":
            row.notified = True
            await row.save([Instalment.notified])
            await tell_parties(dispute, DUE_SOON, seq=row.seq, amount=yuan(row.amount_fen - row.paid_fen),
                               due=change["due_on"])
        elif kind in ("due", "overdue"):
            row.status = kind
            await row.save([Instalment.status])
            await record(dispute, kind, None, dispute.status, {"instalment": row.seq})
        else:
            dispute.status, dispute.defaulted_on = "defaulted", on
            await _save(dispute)
            await record(dispute, "default", None, "repaying", {"instalment": row.seq, "grace_days": grace})
            await tell_parties(dispute, DEFAULTED)
    return result
