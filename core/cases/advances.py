"""Advance funding (先垫资): when no department can be found responsible (the drainage case), the
township — or the district — pays first, fixes it and resolves the case; later the department
found responsible settles the advance (结算).

Two lifecycle steps, run by `core.cases.lifecycle.perform` like every other step (the case row is
locked, the version checked, an event appended to the tamper-evident record):

* ``advance`` — amount (entered in yuan, stored in fen), who authorised it, what was done, the
  date; the case becomes resolved with what was done as its reply.  One advance per case (a unique
  key on tenant and case as well as the case lock).
* ``settle-advance`` — the department found responsible, the amount it paid (at most the
  advance) and the date; once per advance (an update conditioned on "not settled yet").

Who may record: the tenant's dispatchers (调度员) and administrators (平台管理员), who see every case,
and a leader in charge (分管领导) on the cases of the departments they lead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated

import msgspec

from core.cases import inputs, notices, states as S
from core.cases.actions import Step, action, find_department
from core.cases.tables import Advance
from core.clock import now, today
from core.errors import UserError
from core.formats import yuan
from core.prepared import Prepared, Read
from core.scope import scoped

ROLES = ("dispatcher", "leader", "tenant_admin")
# Open cases nobody is deciding just now (not while a refusal is signed or reviewed).
ADVANCE_STATES = {S.SUBMITTED, S.DISPATCHED, S.IN_PROGRESS, S.REFUSED}
MAX_FEN = 100_000_000_000  # one billion yuan: anything above is a typing mistake

Who = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class AdvanceForm(msgspec.Struct):
    """The advance (先垫资): amount in yuan (or `amount_fen`), who authorised it, what was done."""

    authorised_by: Who
    work: inputs.Text
    amount: inputs.Short = ""
    amount_fen: int | None = None
    date: inputs.Short = ""  # YYYY-MM-DD; today when empty


class SettleForm(msgspec.Struct):
    """The settlement (结算) by the department found responsible."""

    department: inputs.Title
    amount: inputs.Short = ""
    amount_fen: int | None = None
    date: inputs.Short = ""


def to_fen(amount: str, amount_fen: int | None) -> int:
    """An amount in fen from yuan text ("12,345.67", "¥500") or from fen; 400 unless it is more
    than zero with at most two decimals."""
    if amount_fen is not None:
        value = Decimal(amount_fen)
    else:
        text = (amount or "").replace(",", "").replace("，", "").replace("¥", "").replace("￥", "").strip()
        try:
            value = Decimal(text) * 100
        except InvalidOperation:
            raise UserError(400, "Enter the amount in yuan, for example 1234.50.", code="amount") from None
    if not value.is_finite() or value != value.to_integral_value():
        raise UserError(400, "Enter the amount in yuan, for example 1234.50.", code="amount")
    if value <= 0 or value > MAX_FEN:
        raise UserError(400, "The amount must be more than zero.", code="amount")
    return int(value)


def to_day(text: str, not_before: date | None = None) -> date:
    """A date (YYYY-MM-DD), today when empty; 400 if it is not one, is in the future or before
    `not_before`."""
    if not text:
        return today()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise UserError(400, "Enter the date as YYYY-MM-DD.", code="date") from None
    if day > today():
        raise UserError(400, "The date cannot be in the future.", code="date")
    if not_before is not None and day < not_before:
        raise UserError(400, "The settlement cannot be dated before the advance (%(day)s).", code="date",
                        day=not_before.isoformat())
    return day


_ADVANCE = Prepared(lambda case_id: scoped(Advance).objects().where(Advance.case == case_id), first=True)


async def advance_of(case_id: int) -> Advance | None:
    """The case's advance, if one was recorded (its SQL kept per tenant: `core.prepared`)."""
    return await _ADVANCE.first(case_id)


def advance_read(case_id: int) -> Read:
    """`advance_of` as a read, to go in the case page's one round trip (`core.prepared.together`)."""
    return _ADVANCE.bind(case_id)


UNREAD = object()  # `offered` reads the advance itself


@action("advance", ROLES, ADVANCE_STATES)
async def _advance(step: Step) -> str:
    form = inputs.parse(AdvanceForm, step.data)
    fen = to_fen(form.amount, form.amount_fen)
    day = to_day(form.date)
    if await advance_of(step.case.id) is not None:
        raise UserError(409, "An advance was already recorded on this case.", code="advanced")
    await scoped(Advance).add(case=step.case.id, amount_fen=fen, authorised_by=form.authorised_by, work=form.work,
                              advanced_on=day, recorded_by=step.user.id)
    step.case.resolution, step.case.resolved_at = form.work, now()
    step.event.update(reason=form.work, data={"amount_fen": fen, "authorised_by": form.authorised_by,
                                              "advanced_on": day.isoformat()})
    await notices.to_company(step.case, "Case %(number)s was resolved. Please rate the outcome.")
    return S.RESOLVED


@action("settle-advance", ROLES, set(S.STATUS_LABELS))
async def _settle(step: Step) -> str:
    form = inputs.parse(SettleForm, step.data)
    advance = await advance_of(step.case.id)
    if advance is None:
        raise UserError(409, "No advance was recorded on this case.", code="no_advance")
    if advance.settled_on is not None:
        raise UserError(409, "This advance was already settled.", code="settled")
    dept = await find_department(form.department)
    fen = to_fen(form.amount, form.amount_fen)
    if fen > advance.amount_fen:
        raise UserError(400, "The settlement of %(amount)s yuan is more than the advance of %(advance)s yuan.",
                        code="over_advance", amount=yuan(fen), advance=yuan(advance.amount_fen))
    day = to_day(form.date, not_before=advance.advanced_on)
    settled = await scoped(Advance).update({
        Advance.settled_department: dept.id, Advance.settled_fen: fen, Advance.settled_on: day,
        Advance.settled_by: step.user.id, Advance.settled_at: now(),
    }).where((Advance.id == advance.id) & Advance.settled_on.is_null()).returning(Advance.id)
    if not settled:
        raise UserError(409, "This advance was already settled.", code="settled")
    step.event.update(data={"settled_by_department": dept.code, "settled_fen": fen, "settled_on": day.isoformat(),
                            "advance_fen": advance.amount_fen})
    return step.case.status


async def offered(case, names: list[str], advance=UNREAD) -> None:
    """Leave in `names` (the steps offered on the case page) an advance only where none was recorded
    and a settlement only where one waits; `advance` is the case's, when the page read it already.
    No query for a case never resolved nor reopened: an advance resolves the case, so it has none."""
    if "advance" not in names and "settle-advance" not in names:
        return
    if advance is UNREAD:
        advance = await advance_of(case.id) if (case.resolved_at is not None or case.reopened) else None
    if advance is not None and "advance" in names:
        names.remove("advance")
    if "settle-advance" in names and (advance is None or advance.settled_on is not None):
        names.remove("settle-advance")


# -- the list and the figure ------------------------------------------------------------------------

@dataclass
class Outstanding:
    count: int
    fen: int


async def outstanding() -> Outstanding:
    """How many advances of the current tenant wait for their settlement, and their sum in fen."""
    rows = await scoped(Advance).select(Advance.amount_fen).where(Advance.settled_on.is_null())
    return Outstanding(len(rows), sum(r["amount_fen"] for r in rows))


async def advances(settled: bool, limit: int = 50, offset: int = 0) -> tuple[list[dict], int]:
    """The tenant's advances, outstanding (oldest first) or settled (latest first), with their case
    and the settling department: (rows, total)."""
    where = Advance.settled_on.is_not_null() if settled else Advance.settled_on.is_null()
    first = Advance.settled_on if settled else Advance.advanced_on
    rows = await scoped(Advance).select(
        Advance.id, Advance.case, Advance.case.number.as_alias("number"), Advance.case.title.as_alias("title"),
        Advance.amount_fen, Advance.authorised_by, Advance.work, Advance.advanced_on, Advance.settled_fen,
        Advance.settled_on, Advance.settled_department.name_zh.as_alias("department_zh"),
        Advance.settled_department.name_en.as_alias("department_en"),
    ).where(where).order_by(first, ascending=not settled).order_by(Advance.id).limit(limit).offset(offset)
    total = await scoped(Advance).count().where(where)
    return rows, total

