"""The tamper-evident record (留痕): events are appended to a per-tenant hash chain.

Each event's hash covers its content and the previous event's hash.  The chain head
(`AuditHead`) is updated in the same transaction as each append; updating it takes a row lock on
PostgreSQL (and SQLite writes are serialised), so concurrent appends of one tenant never fork the
chain.  `verify_tenant` finds an edited, inserted or deleted event.

A tenant moved to another installation (`qinqing tenant import`) keeps its events byte for byte,
hashes included, although its rows get new ids there.  The import appends one record to the chain
(action ``tenant_import``) holding the source's tenant id and, for every case and user the earlier
events name, the new id → the id the events were hashed with.  Verification translates the ids of
the events before an import record through it (newest record first, so a tenant moved twice still
verifies); the map is inside the chain, so editing it is caught like any other edit.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import datetime

from core.cases.tables import AuditHead, Event
from core.clock import as_utc, now
from core.prepared import Inserted, Prepared, Read, write_together
from core.scope import current_tenant, scoped

GENESIS = "0" * 64
IMPORT_ACTION = "tenant_import"
_UNKNOWN = "?"  # an id the import record does not know: never equal to what was hashed
INSERT_BATCH = 1000  # events per INSERT


def _canonical(tenant_id: int, seq: int, fields: dict, created_at: datetime, prev_hash: str) -> bytes:
    body = {
        "tenant": tenant_id, "seq": seq, "case": fields.get("case"), "actor": fields.get("actor"),
        "role": fields.get("actor_role", ""), "action": fields["action"], "reason": fields.get("reason", ""),
        "before": fields.get("before", ""), "after": fields.get("after", ""), "data": fields.get("data", "{}"),
        "at": as_utc(created_at).isoformat(timespec="microseconds"), "prev": prev_hash,
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def event_hash(tenant_id: int, seq: int, fields: dict, created_at: datetime, prev_hash: str) -> str:
    return hashlib.sha256(_canonical(tenant_id, seq, fields, created_at, prev_hash)).hexdigest()


async def _advance_head(count: int) -> tuple[int, str]:
    """Reserve `count` sequence numbers; returns (first seq - 1, previous hash)."""
    for _ in range(2):
        rows = await scoped(AuditHead).update({AuditHead.last_seq: AuditHead.last_seq + count}).returning(
            AuditHead.last_seq, AuditHead.last_hash)
        if rows:
            return rows[0]["last_seq"] - count, rows[0]["last_hash"] or GENESIS
        # The tenant's first event.  Two transactions may both find no head (PostgreSQL): the one
        # whose insert waits on the other's unique key inserts nothing and advances that head.
        created = await AuditHead.insert(scoped(AuditHead).new(last_seq=count, last_hash=GENESIS)).on_conflict(
            action="DO NOTHING").returning(AuditHead.id)
        if created:
            return 0, GENESIS
    raise RuntimeError("the tenant's audit head can be neither advanced nor created")


# The head advanced by one, as a read to run with others (`prepared.together`): one round trip less
# for a single event.  Answers no row when the tenant has no head yet (`_advance_head` makes it).
_ADVANCE_ONE = Prepared(lambda: scoped(AuditHead).update({AuditHead.last_seq: AuditHead.last_seq + 1}).returning(
    AuditHead.last_seq, AuditHead.last_hash))


# The head's new hash, once the events are written (its SQL kept: see `prepared.Prepared`).
_SET_HASH = Prepared(lambda last_hash: scoped(AuditHead).update({AuditHead.last_hash: last_hash}))


def head_advanced() -> Read:
    """Reserve the next sequence number, among other reads: (its seq - 1, previous hash), or None
    when the tenant has no head yet.  The head is held until the transaction ends; a caller that
    then writes no event must `head_retreated()` (or let the transaction roll back)."""
    return _ADVANCE_ONE.bind().then(lambda rows: (rows[0]["last_seq"] - 1, rows[0]["last_hash"] or GENESIS)
                                    if rows else None)


async def head_retreated() -> None:
    """Give back the number `head_advanced` reserved, for a caller that writes no event after all
    and whose transaction may still commit (the head is held: nobody took a number since)."""
    await scoped(AuditHead).update({AuditHead.last_seq: AuditHead.last_seq - 1})


async def append_events(entries: list[dict]) -> list[Event]:
    """Append events of the current tenant in order, inside the caller's transaction.

    Each entry has `action` and optionally `case`, `actor`, `actor_role`, `reason`, `before`,
    `after`, `data` (a dict) and `created_at`.
    """
    rows, writes = await event_writes(entries)
    for write in writes[:-2]:
        await write
    await write_together(*writes[-2:])
    return rows


async def event_writes(entries: list[dict], advanced: tuple[int, str] | None = None) -> tuple[list[Event], list]:
    """`append_events` up to the writing: the chain head is advanced (and held until the
    transaction ends), the events are hashed, and the writes that store them are returned —
    the events' inserts and, last, the head's new hash — for the caller to run, in order (the
    last ones may go together with other writes of its own: see `prepared.write_together`).
    `advanced`: what `head_advanced()` answered for a single entry, when it was run already."""
    tenant_id = current_tenant().id
    if advanced is not None and len(entries) != 1:
        raise ValueError("the head was advanced for one event")
    seq, prev = advanced or await _advance_head(len(entries))
    rows = []
    for entry in entries:
        seq += 1
        fields = dict(entry)
        fields["data"] = json.dumps(fields.get("data") or {}, ensure_ascii=False, sort_keys=True)
        created_at = as_utc(fields.pop("created_at", None)) or now()
        digest = event_hash(tenant_id, seq, fields, created_at, prev)
        rows.append(scoped(Event).new(seq=seq, created_at=created_at, prev_hash=prev, hash=digest, **fields))
        prev = digest
    if not rows:
        return rows, []
    batches: list = [Inserted(Event, *rows[start:start + INSERT_BATCH])  # bound parameters stay under the limit
                     for start in range(0, len(rows), INSERT_BATCH)]
    return rows, [*batches, _SET_HASH.bind(prev)]


_INSERT_EVENT = ('INSERT INTO case_event (tenant_id, seq, "case", actor, actor_role, action, reason, before, after, '
                 'data, created_at, prev_hash, hash) VALUES ({tenant}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})')


async def append_many(entries: list[dict]) -> None:
    """`append_events` for many entries at once (the deadline sweep): the same chain and rows, written
    as one batch of plain tuples instead of an `Event` object and bound query per event."""
    if not entries:
        return
    tenant_id = current_tenant().id  # hashed with each event; the scoping layer writes the column
    seq, prev = await _advance_head(len(entries))
    rows = []
    for entry in entries:
        seq += 1
        fields = {"case": entry.get("case"), "actor": entry.get("actor"), "actor_role": entry.get("actor_role", ""),
                  "action": entry["action"], "reason": entry.get("reason", ""), "before": entry.get("before", ""),
                  "after": entry.get("after", ""),
                  "data": json.dumps(entry.get("data") or {}, ensure_ascii=False, sort_keys=True)}
        created_at = as_utc(entry.get("created_at")) or now()
        digest = event_hash(tenant_id, seq, fields, created_at, prev)
        rows.append((seq, *fields.values(), created_at, prev, digest))
        prev = digest
    await scoped(Event).execute_many(_INSERT_EVENT, rows)
    await scoped(AuditHead).update({AuditHead.last_hash: prev})


_HEAD = Prepared(lambda: scoped(AuditHead).select(AuditHead.last_seq, AuditHead.last_hash), first=True)


def _head_of(head: dict | None) -> tuple[int, str]:
    return (head["last_seq"], head["last_hash"] or GENESIS) if head else (0, GENESIS)


async def chain_head() -> tuple[int, str]:
    """(sequence number, hash) of the current tenant's last event: it moves with every change to
    any of its cases, so what is computed from the cases can be kept until it moves."""
    return _head_of(await _HEAD.first())


def chain_head_read() -> Read:
    """`chain_head` as a read, to go with others in one round trip (`core.prepared.together`)."""
    return _HEAD.bind().then(_head_of)


class KeptUntilChange:
    """Values computed from a tenant's cases, kept in this process until the tenant's chain head
    moves (every change to a case appends an event, so the head says whether they can have
    changed).  Keys are per tenant; `seconds` also bounds an entry's life, for what changes
    without an event; `clear()` is for the bulk paths that rewrite without events."""

    def __init__(self, entries: int, seconds: float | None = None):
        self.entries, self.seconds = entries, seconds
        self._kept: dict[tuple, tuple[float, tuple[int, str], object]] = {}

    async def get(self, key: tuple, compute, head: tuple[int, str] | None = None):
        """The kept value of `key`, or `compute()`'s; `head`: the chain head if the caller read it
        already (with its own reads, in one round trip)."""
        full_key = (current_tenant().id, *key)
        head = head or await chain_head()
        kept = self._kept.get(full_key)
        if kept is not None and kept[1] == head and (
                self.seconds is None or time.monotonic() - kept[0] < self.seconds):
            return kept[2]
        value = await compute()
        self.keep(key, head, value)
        return value

    def peek(self, key: tuple) -> tuple[tuple[int, str], object] | None:
        """The chain head `key`'s value was kept at, and the value; None if nothing is kept (the
        caller reads the head beside its other reads and keeps its answer only if it matches)."""
        kept = self._kept.get((current_tenant().id, *key))
        if kept is None or (self.seconds is not None and time.monotonic() - kept[0] >= self.seconds):
            return None
        return kept[1], kept[2]

    def keep(self, key: tuple, head: tuple[int, str], value: object) -> None:
        """Keep `value` for `key`, computed when the chain head was `head`."""
        if len(self._kept) >= self.entries:
            self._kept.clear()
        self._kept[(current_tenant().id, *key)] = (time.monotonic(), head, value)

    def clear(self) -> None:
        self._kept.clear()

    def __bool__(self) -> bool:
        return bool(self._kept)


async def append_event(**entry) -> Event:
    """Append one event to the current tenant's record (as `append_events` does with one entry)."""
    return (await append_events([entry]))[0]


async def append_import_record(source_tenant: int, cases: dict[int, int], users: dict[int, int],
                               source: dict) -> Event:
    """Record that the events so far came from another installation: `cases` and `users` map this
    installation's ids to the ids the events were hashed with there (tenant `source_tenant`)."""
    return await append_event(action=IMPORT_ACTION, actor=None, actor_role="system", data={
        "tenant": source_tenant, "source": source,
        "cases": {str(new): old for new, old in sorted(cases.items())},
        "users": {str(new): old for new, old in sorted(users.items())},
    })


@dataclass
class _Import:
    seq: int
    tenant: int
    cases: dict[int, int]
    users: dict[int, int]


def _parse_import(row: dict) -> _Import | None:
    try:
        data = json.loads(row["data"])
        cases = {int(k): int(v) for k, v in data["cases"].items()}
        users = {int(k): int(v) for k, v in data["users"].items()}
        if len(set(cases.values())) != len(cases) or len(set(users.values())) != len(users):
            return None
        return _Import(row["seq"], int(data["tenant"]), cases, users)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _hashed_ids(tenant_id: int, row: dict, imports: list[_Import]) -> tuple:
    """The (tenant, case, actor) an event was hashed with: its own, translated back through every
    import recorded after it, newest first."""
    tid, case, actor = tenant_id, row["case"], row["actor"]
    for imp in imports:  # newest first
        if imp.seq <= row["seq"]:
            break
        tid = imp.tenant
        case = None if case is None else imp.cases.get(case, _UNKNOWN)
        actor = None if actor is None else imp.users.get(actor, _UNKNOWN)
    return tid, case, actor


def _hash_of(tenant_id: int, row: dict, imports: list[_Import], prev: str) -> str:
    tid, case, actor = _hashed_ids(tenant_id, row, imports)
    fields = {k: row[k] for k in ("actor_role", "action", "reason", "before", "after", "data")}
    return event_hash(tid, row["seq"], dict(fields, case=case, actor=actor), row["created_at"], prev)


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    problem: str = ""
    seq: int | None = None


async def verify_tenant(batch: int = 5000) -> VerifyResult:
    """Check the current tenant's chain from the first event to the head."""
    tenant_id = current_tenant().id
    head = await scoped(AuditHead).select().first()
    imports: list[_Import] = []
    for row in await scoped(Event).select().where(Event.action == IMPORT_ACTION).order_by(Event.seq, ascending=False):
        parsed = _parse_import(row)
        if parsed is None or _hash_of(tenant_id, row, imports, row["prev_hash"]) != row["hash"]:
            return VerifyResult(False, 0, f"event {row['seq']} was altered", row["seq"])
        imports.append(parsed)
    expected_seq, prev, checked = 1, GENESIS, 0
    while True:
        rows = await scoped(Event).select().where(Event.seq >= expected_seq).order_by(Event.seq).limit(batch)
        if not rows:
            break
        for row in rows:
            if row["seq"] != expected_seq:
                what = "deleted" if row["seq"] > expected_seq else "inserted"
                return VerifyResult(False, checked, f"event {expected_seq} is missing ({what})", expected_seq)
            if row["prev_hash"] != prev or _hash_of(tenant_id, row, imports, prev) != row["hash"]:
                return VerifyResult(False, checked, f"event {row['seq']} was altered", row["seq"])
            prev = row["hash"]
            expected_seq += 1
            checked += 1
        if len(rows) < batch:
            break
    duplicates = await scoped(Event).count().where(Event.seq < expected_seq) if checked else 0
    if duplicates != checked:
        return VerifyResult(False, checked, "an event was inserted with a duplicate sequence number", None)
    head_seq = head["last_seq"] if head else 0
    if checked > head_seq:
        return VerifyResult(False, checked, f"event {head_seq + 1} was inserted after the chain's head", head_seq + 1)
    if head_seq != checked or (head and checked and head["last_hash"] != prev):
        return VerifyResult(False, checked, f"event {checked + 1} is missing (deleted at the end of the chain)",
                            checked + 1)
    return VerifyResult(True, checked)
