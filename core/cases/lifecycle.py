"""The case lifecycle (办理流程): every step, who may take it, from which status, and its record.

`perform(user, case_id, action, data)` is the one entry point for pages and the API.  A step
not allowed for the actor's role answers 403, one not allowed in the current status (or too late,
or already pending) 409, each with a message saying why.  Every step writes an event on the
tamper-evident record, tells the plugins, and queues its notifications through the outbox — all
in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from core.cases import advances, audit, inputs, notices, states as S, steps  # noqa: F401  (the steps register themselves on import)
from core.cases.access import company_ids_of, load_visible_case, members_with_role
from core.cases.actions import ACTIONS, Step, open_refusal, pending
from core.cases.audit import append_event
from core.cases.filing import FiledFor, check_company, company_reads, search_text
from core.cases.tables import Case, Event, Extension, Objection, SignOff
from core.clock import now, today
from core.contrib import CaseEvent
from core.db import is_postgres
from core.errors import UserError
from core.oversight import tally
from core.piccolo_private import mark_saved
from core.plugins import get_plugin_manager
from core.prepared import Inserted, Prepared, Read, reserve_id, together, write_together
from core.scope import current_tenant, scoped
from core.tables import Category

# -- submitting ---------------------------------------------------------------------------------

@dataclass
class Filed:
    """A case just submitted, with what its answer shows besides the case row: its category and
    company, and (PostgreSQL) its one event — `event` is None when the record was written another
    way, or when a plugin's follow-up ran in the transaction and may have changed what a read shows."""

    case: Case
    category: _Category
    company: FiledFor | None
    event: Event | None


async def submit(user, data: dict, anonymous: bool = False) -> Case:
    """A company (or someone filing on its behalf) submits a case (提交诉求).

    `anonymous`: an intake without a company (an Open311 request that named none); the
    dispatcher attaches the company (`attach-company`) before it can be dispatched.
    """
    return (await file_case(user, data, anonymous)).case


async def file_case(user, data: dict, anonymous: bool = False) -> Filed:
    """`submit`, answering the case with what was written beside it (see `Filed`)."""
    on_behalf = not user.has_role("company")
    if on_behalf and not user.can("case.submit_on_behalf"):
        raise UserError(403, "Only a company, or an assistant on its behalf, can submit a case.")
    new = inputs.parse(inputs.NewCase, data)
    wants_company = not anonymous or bool(new.company)
    reads = company_reads(user, new.company, rows=True) if wants_company else (Read.value([]), Read.value(None))
    # One round trip: the category, the company, the new case's id, who is told of it and (PostgreSQL)
    # the case's number on the tenant's record, the chain head held from here to the commit.
    category, own, company, case_id, dispatchers, head = await together(
        _category_read(new.category), *reads, reserve_id(Case), members_with_role("dispatcher"),
        audit.head_advanced() if is_postgres() else Read.value(None))
    try:
        if category is None and new.category.isdigit():
            category = _category_of(await _CATEGORY_BY_ID.first(int(new.category)))
        if category is None:
            raise UserError(400, "Unknown category: %(category)s.", code="unknown_category", category=new.category)
        if wants_company:
            check_company(new.company, company, own, on_behalf)
    except UserError:
        if head is not None:  # no event after all: the number goes back, should the caller commit
            await audit.head_retreated()
        raise
    fields = dict(company=company.id if company else None, submitted_by=user.id, on_behalf=on_behalf,
                  category=category.id, title=new.title, description=new.description, status=S.SUBMITTED,
                  search_text=search_text(new.title, new.description, company.name if company else ""))
    role = "company" if not on_behalf else _first_role(user)
    event = dict(actor=user.id, actor_role=role, action="submit", reason="", before="", after=S.SUBMITTED,
                 data={"category": category.code, "on_behalf": on_behalf})
    message = ("New case %(number)s names no company: attach one, then dispatch it." if company is None
               else "New case %(number)s is waiting for dispatch.")
    township = company.township if company else None
    if case_id is not None:
        # The number derives from the id, taken from the sequence: the case, its event (with the
        # chain head's new hash), its tally row and the dispatchers' notices go in one write.
        case = scoped(Case).new(id=case_id, number=_case_number(case_id), **fields)
        events, event_writes = await audit.event_writes([dict(event, case=case_id)], head)
        await write_together(Inserted(Case, case), *event_writes, await tally.new_row(case, township),
                             *notices.to_users_writes(dispatchers, case, message))
        mark_saved(case)
        followed = await _tell_plugins(case, user, "submit", event["data"])
        return Filed(case, category, company, None if followed else events[0])
    case = await scoped(Case).add(number="", **fields)
    case.number = _case_number(case.id)
    await case.save([Case.number])
    await _record(case, user, role, "submit", "", S.SUBMITTED, event["data"])
    await tally.add_new(case, township)
    await notices.to_users(dispatchers, case, message)
    return Filed(case, category, company, None)


def _case_number(case_id: int) -> str:
    """受理编号: the tenant's prefix, the year and the id, e.g. LU2026000123."""
    return f"{current_tenant().slug[:2].upper()}{today().year}{case_id:06d}"


class _Category(NamedTuple):
    id: int
    code: str
    name_zh: str


def _category_of(row: dict | None) -> _Category | None:
    return _Category(row["id"], row["code"], row["name_zh"]) if row else None


_CATEGORY_COLUMNS = (Category.id, Category.code, Category.name_zh)
_ACTIVE_CATEGORY = Prepared(lambda code: scoped(Category).select(*_CATEGORY_COLUMNS).where(
    (Category.code == code) & (Category.active == True)), first=True)  # noqa: E712
_CATEGORY_BY_ID = Prepared(lambda category_id: scoped(Category).select(*_CATEGORY_COLUMNS).where(
    Category.id == category_id), first=True)


def _category_read(code: str) -> Read:
    """The active category with this code, as a row (`_Category`), or None."""
    return _ACTIVE_CATEGORY.bind(code).then(_category_of)


def _first_role(user) -> str:
    return sorted(user.roles)[0] if user.roles else ""


# -- performing a step ----------------------------------------------------------------------------

async def perform(user, case_id: int, name: str, data: dict | None = None, version: int | None = None) -> Case:
    """Take step `name` on a case: one step at a time per case, on both engines.

    PostgreSQL: the case row is locked for the step's transaction, so a concurrent step waits and
    then sees what this one did.  SQLite: write transactions begin IMMEDIATE, so they run one after
    another.  Either way the row is saved only if its version is still the one read: a step that
    would overwrite another answers 409, never a lost or doubled write.
    """
    spec = ACTIONS.get(name)
    if spec is None:
        raise UserError(404, "Not found.")
    await lock_case(case_id)
    case = await load_visible_case(user, case_id)
    role = next((r for r in spec.roles if user.has_role(r)), None)
    if role is None:
        raise UserError(403, "Your role cannot take the step “%(step_label)s”.", step_label=S.ACTION_LABELS[name])
    if version is not None and version != case.version:
        raise UserError(409, "This case changed since you opened it. Reload the page and try again.", code="stale")
    if case.status not in spec.states:
        raise UserError(409, "The step “%(step_label)s” is not possible while the case is “%(status_label)s”.",
                        step_label=S.ACTION_LABELS[name], status_label=S.STATUS_LABELS[case.status])
    await _check_scope(spec.scope, case, user, role)
    step = Step(case=case, user=user, role=role, data=data or {}, event={"data": {}})
    before, read_version = case.status, case.version or 0
    after = await spec.run(step)
    case.status = after
    case.version = read_version + 1
    case.updated_at = now()
    await save_unchanged_since(case, read_version)
    await _record(case, user, role, name, step.event.get("reason", ""), after, step.event["data"], before=before)
    await tally.refresh([case.id])
    return case


# NO KEY UPDATE: writers of the case wait for each other, but not for rows that merely reference it
# (a foreign key's check holds KEY SHARE until its transaction ends: two batches that each listed the
# case and then locked it with FOR UPDATE deadlocked).
_LOCK = Prepared(lambda case_id: scoped(Case).select(Case.id).where(Case.id == case_id).lock_rows("NO KEY UPDATE"),
                 first=True)
_SAVED_COLUMNS = tuple(c for c in Case._meta.columns if c._meta.name not in ("id", "tenant_id"))


async def lock_case(case_id: int) -> None:
    """Hold the case row until the transaction ends (PostgreSQL; SQLite's write transactions
    are serialised already)."""
    if is_postgres():
        await _LOCK.first(case_id)


async def save_unchanged_since(case: Case, read_version: int) -> None:
    """Write the case row only if nobody changed it since it was read at `read_version`."""
    values = {column: getattr(case, column._meta.name) for column in _SAVED_COLUMNS}
    saved = await scoped(Case).update(values).where((Case.id == case.id) & (Case.version == read_version)).returning(
        Case.id)
    if not saved:
        raise UserError(409, "This case changed since you opened it. Reload the page and try again.", code="stale")


async def _check_scope(scope: str, case: Case, user, role: str) -> None:
    if scope == "department" and case.department not in user.department_ids:
        raise UserError(403, "Only the department the case is assigned to can do this.")
    if scope == "handler" and case.handler != user.id:
        raise UserError(403, "Only the first responder of this case can do this.")
    if scope == "own_company" and role == "company" and case.company not in await company_ids_of(user.id):
        raise UserError(403, "Only the company that filed the case can do this.")


async def _record(case: Case, user, role: str, name: str, reason: str, after: str, data: dict, before: str = "") -> None:
    await append_event(case=case.id, actor=user.id, actor_role=role, action=name, reason=reason,
                       before=before, after=after, data=data)
    await _tell_plugins(case, user, name, data)


async def _tell_plugins(case: Case, user, name: str, data: dict) -> int:
    """Tell the enabled plugins of the step; how many follow-ups they gave (each run here)."""
    tenant = current_tenant()
    follow_ups = get_plugin_manager().emit_case_event(tenant, CaseEvent(tenant.id, case.id, name, user.id, dict(data)))
    for follow_up in follow_ups:
        await follow_up  # a listener's outbox write, in this transaction
    return len(follow_ups)


async def available_actions(user, case: Case, advance=advances.UNREAD) -> list[str]:
    """The steps `user` could take on `case` now (for the buttons on its page); `advance` is the
    case's advance when the page read it beside the case (`advances.advance_read`)."""
    names = []
    for name, spec in ACTIONS.items():
        role = next((r for r in spec.roles if user.has_role(r)), None)
        if role is None or case.status not in spec.states:
            continue
        try:
            await _check_scope(spec.scope, case, user, role)
        except UserError:
            continue
        names.append(name)
    if case.status == S.REFUSAL_PENDING:
        refusal = await open_refusal(case.id)
        if refusal is None or not user.has_role(refusal.stage) or user.id == refusal.filed_by or await scoped(
                SignOff).exists().where((SignOff.refusal == refusal.id) & (SignOff.signer == user.id)):
            names = [n for n in names if n not in ("sign", "send-back")]
    if "decide-objection" in names and await pending(Objection, case.id) is None:
        names.remove("decide-objection")
    if "decide-extension" in names and await pending(Extension, case.id) is None:
        names.remove("decide-extension")
    await advances.offered(case, names, advance)
    if "reopen" in names and (case.rating != "unsatisfied" or case.reopened):
        names.remove("reopen")
    if "escalate" in names and case.escalated:
        names.remove("escalate")
    if case.company is None and "dispatch" in names:
        names.remove("dispatch")
    if case.company is not None and "attach-company" in names:
        names.remove("attach-company")
    return names

