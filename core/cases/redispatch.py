"""Bulk re-dispatch (批量二次交办): a dispatcher or a leader selects refused cases with the dispatch
console's filters and sends them back to their departments with one reason.

Each case goes through the lifecycle's own step (`redispatch`, via `lifecycle.perform`: its row
lock, its version check, its event on the tamper-evident record) and gets a fresh working-day
deadline.  A batch is a row keyed per tenant by the form's (or client's) key, and each case it
selected a row unique per (batch, case): the same batch sent twice — even at the same moment — is
one batch, and a case is claimed (pending → redispatched) once, so a redelivered job message never
re-dispatches it again.  Up to INLINE_MAX cases run in the request; more run as a background job,
CHUNK cases per message, with progress on the batch's page.

A case whose refusal is under review (`under_review`) is skipped and listed: the review panel rules
first (an overturn re-dispatches it anyway, an upheld refusal closes it).
"""

from __future__ import annotations

import json
import re

from core.cases import inputs, lifecycle, queries, states as S
from core.cases.queries import CaseFilter
from core.cases.redispatch_tables import RedispatchBatch, RedispatchItem
from core.cases.tables import Case
from core.clock import now
from core.errors import UserError
from core.i18n import N_
from core.jobs import actor
from core.outbox import enqueue
from core.scope import scoped
from core.user_roles import load_user
from core.users import CurrentUser

ACTOR = "redispatch_cases"
INLINE_MAX = 100  # more than this many cases run in the background
CHUNK = 50  # cases per background message (each its own transaction: progress shows between)
MAX_CASES = 5000
KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
ROLES = ("dispatcher", "leader")
NOTES = {  # why a case was skipped, by code
    "under_review": N_("Its refusal is under review: the review panel rules first."),
    "not_refused": N_("It is no longer refused."),
    "stale": N_("It changed while the batch ran."),
    "not_allowed": N_("You may not re-dispatch it."),
}
FILTER_FIELDS = ("q", "status", "department", "category", "overdue", "escalated", "overturned", "mine", "queue")


def may_redispatch(user) -> bool:
    return user.has_role(*ROLES)


def _filters_of(f: CaseFilter) -> dict:
    return {name: getattr(f, name) for name in FILTER_FIELDS if getattr(f, name)}


async def selected(user, f: CaseFilter) -> list[dict]:
    """The cases a batch with filters `f` takes: refused ones, and those under review (skipped)."""
    query = scoped(Case).select(Case.id, Case.status).where(Case.status.is_in([S.REFUSED, S.UNDER_REVIEW]))
    for clause in await queries.filter_clauses(user, f):
        query = query.where(clause)
    return await query.order_by(Case.id)


async def start(user, f: CaseFilter, reason: str, key: str) -> tuple[dict, bool]:
    """Start (or find again, by `key`) a batch; returns its view and whether it is new."""
    if not may_redispatch(user):
        raise UserError(403, "Only a dispatcher or a leader can re-dispatch refused cases.")
    form = inputs.parse(inputs.NeedReason, {"reason": reason})
    if not KEY.match(key or ""):
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field="key")
    existing = await _by_key(key)
    if existing is not None:
        return await _shown(existing["id"]), False
    cases = await selected(user, f)
    if not cases:
        raise UserError(400, "No refused case matches these filters.", code="nothing_selected")
    if len(cases) > MAX_CASES:
        raise UserError(400, "These filters select %(count)s cases; narrow them to at most %(max)s.",
                        code="too_many", count=len(cases), max=MAX_CASES)
    inserted = await RedispatchBatch.insert(scoped(RedispatchBatch).new(
        key=key, reason=form.reason, filters=json.dumps(_filters_of(f), ensure_ascii=False), status="queued",
        total=len(cases), created_by=user.id)).on_conflict(action="DO NOTHING").returning(RedispatchBatch.id)
    if not inserted:  # the same batch, sent at the same moment, won the key
        winner = await _by_key(key)
        assert winner is not None  # it holds the key this insert conflicted on
        return await _shown(winner["id"]), False
    batch_id = inserted[0]["id"]
    await RedispatchItem.insert(*[scoped(RedispatchItem).new(
        batch=batch_id, case=c["id"], outcome="pending" if c["status"] == S.REFUSED else "skipped",
        note="" if c["status"] == S.REFUSED else "under_review") for c in cases]).on_conflict(action="DO NOTHING")
    if len(cases) > INLINE_MAX:
        await _count(batch_id, done=False)
        await enqueue(ACTOR, batch_id=batch_id)
    else:
        await apply(batch_id, limit=None, acting=user)
    return await _shown(batch_id), True


async def _shown(batch_id: int) -> dict:
    """The view of a batch this request has just found or made."""
    found = await view(batch_id)
    assert found is not None
    return found


async def _by_key(key: str) -> dict | None:
    return await scoped(RedispatchBatch).select(RedispatchBatch.id).where(RedispatchBatch.key == key).first()


async def apply(batch_id: int, limit: int | None = CHUNK, acting: CurrentUser | None = None) -> bool:
    """Re-dispatch the batch's next pending cases (all when `limit` is None); True when done."""
    batch = await scoped(RedispatchBatch).objects().where(RedispatchBatch.id == batch_id).first()
    if batch is None or batch.status == "done":
        return True
    user = acting or (await load_user(batch.created_by, via="job") if batch.created_by else None)
    query = scoped(RedispatchItem).select(RedispatchItem.id, RedispatchItem.case).where(
        (RedispatchItem.batch == batch_id) & (RedispatchItem.outcome == "pending")).order_by(RedispatchItem.id)
    for item in await (query.limit(limit) if limit else query):
        # Claimed once: a redelivered message, or a second worker, finds it no longer pending.
        claimed = await scoped(RedispatchItem).update({RedispatchItem.outcome: "redispatched"}).where(
            (RedispatchItem.id == item["id"]) & (RedispatchItem.outcome == "pending")).returning(RedispatchItem.id)
        if not claimed:
            continue
        note = await _one(user, item["case"], batch)
        if note:
            await scoped(RedispatchItem).update({RedispatchItem.outcome: "skipped", RedispatchItem.note: note}).where(
                RedispatchItem.id == item["id"])
    return await _count(batch_id)


async def _one(user: CurrentUser | None, case_id: int, batch: RedispatchBatch) -> str:
    """Re-dispatch one case through the lifecycle; "" when done, else why it was skipped."""
    if user is None or not may_redispatch(user):
        return "not_allowed"
    try:
        await lifecycle.perform(user, case_id, "redispatch", {"reason": batch.reason, "batch": batch.id})
    except UserError as exc:
        if exc.code == "stale":
            return "stale"
        if exc.status_code in (403, 404):
            return "not_allowed"
        status = (await scoped(Case).select(Case.status).where(Case.id == case_id).first() or {}).get("status")
        return "under_review" if status == S.UNDER_REVIEW else "not_refused"
    return ""


async def _count(batch_id: int, done: bool | None = None) -> bool:
    """Write the batch's progress from its items; finish it when nothing is pending."""
    counts = {outcome: await scoped(RedispatchItem).count().where(
        (RedispatchItem.batch == batch_id) & (RedispatchItem.outcome == outcome))
        for outcome in ("pending", "redispatched", "skipped")}
    finished = counts["pending"] == 0 if done is None else done
    values = {RedispatchBatch.redispatched: counts["redispatched"], RedispatchBatch.skipped: counts["skipped"],
              RedispatchBatch.processed: counts["redispatched"] + counts["skipped"],
              RedispatchBatch.status: "done" if finished else ("running" if done is None else "queued")}
    if finished:
        values[RedispatchBatch.finished_at] = now()
    await scoped(RedispatchBatch).update(values).where(RedispatchBatch.id == batch_id)
    return finished


@actor(ACTOR)
async def redispatch_cases(batch_id: int) -> None:
    """One chunk of a batch; queues the next until none is pending."""
    if not await apply(batch_id):
        await enqueue(ACTOR, batch_id=batch_id)


async def view(batch_id: int, skipped_max: int = 200) -> dict | None:
    """A batch as pages and the API show it: progress, and the cases skipped with why."""
    row = await scoped(RedispatchBatch).select(
        RedispatchBatch.id, RedispatchBatch.key, RedispatchBatch.reason, RedispatchBatch.filters,
        RedispatchBatch.status, RedispatchBatch.total, RedispatchBatch.processed, RedispatchBatch.redispatched,
        RedispatchBatch.skipped, RedispatchBatch.created_at, RedispatchBatch.finished_at,
        RedispatchBatch.created_by.display_name.as_alias("created_by_name")).where(
        RedispatchBatch.id == batch_id).first()
    if row is None:
        return None
    row["filters"] = json.loads(row["filters"] or "{}")
    row["skipped_cases"] = await scoped(RedispatchItem).select(
        RedispatchItem.case.as_alias("id"), RedispatchItem.case.number.as_alias("number"), RedispatchItem.note).where(
        (RedispatchItem.batch == batch_id) & (RedispatchItem.outcome == "skipped")).order_by(
        RedispatchItem.id).limit(skipped_max)
    return row


async def visible_view(user, batch_id: int) -> dict:
    """The batch, for one who may re-dispatch or sees the console (404 otherwise: not revealed)."""
    found = await view(batch_id) if may_redispatch(user) or user.can("console.view") else None
    if found is None:
        raise UserError(404, "Not found.")
    return found


ACTORS = [redispatch_cases]
