"""Reads sent to PostgreSQL's streaming replicas (只读副本), writes to the primary.

`DATABASE_REPLICA_URLS` names the replicas.  The engine (`RoutedEngine`) is the primary's
Piccolo engine whose connections come from a replica while the current context prefers one:
a request marked for replica reads runs inside `replica_reads()` (the web layer's
`web.read_routing`), every write scope inside `primary_only()` (`core.db.write_transaction`,
`tenant_scope(write=True)`).  Nothing else changes: the same login (the application role, so
row-level security holds on the replica as on the primary), the same transactions and queries.

A replica is used only while it answers and its replay is at most `REPLICA_MAX_LAG_SECONDS`
behind; each process checks each replica at most every `CHECK_SECONDS` on its way to a read, and
a replica that is down, lagging, or not a standby is skipped — the read goes to the primary, no
error.  One request keeps the replica it was given (its reads see one point in time).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

import asyncpg
from piccolo.engine.postgres import PostgresEngine

log = logging.getLogger("qinqing.replicas")

CHECK_SECONDS = 1.0  # how stale a replica's known state may be before a read checks it again
CONNECT_SECONDS = 2.0  # a replica that takes longer to answer counts as down

LAG_SQL = """SELECT pg_is_in_recovery() AS standby,
    pg_is_in_recovery() AND pg_is_wal_replay_paused() AS paused,
    CASE WHEN NOT pg_is_in_recovery() THEN 0
         WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
         ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)::float8 END AS lag"""
"""On a standby: how far behind its replay is — none when it has replayed all it received (an
idle primary sends nothing), else the age of the last transaction it replayed."""


@dataclass
class Replica:
    """One replica and what this process last learnt of it."""

    name: str  # host:port/database, for the console and the logs
    config: dict
    state: str = "unchecked"  # up | lagging | down | not a standby | unchecked
    lag: float | None = None
    paused: bool = False
    error: str = ""
    checked_at: float = 0.0
    reads: int = 0  # connections this process took from it for reads
    pool: Any = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def usable(self, max_lag: float) -> bool:
        return self.state == "up" and self.lag is not None and self.lag <= max_lag

    def mark_down(self, exc: BaseException) -> None:
        if self.state != "down":
            log.warning("replica %s skipped: %s: %s", self.name, exc.__class__.__name__, exc)
        self.state, self.error, self.lag, self.checked_at = "down", f"{exc.__class__.__name__}: {exc}", None, time.monotonic()


class ReadRoute:
    """Where this context's reads go: `prefer_replica`, and once asked, the replica it got."""

    __slots__ = ("prefer_replica", "replica", "chosen", "used_replica")

    def __init__(self, prefer_replica: bool):
        self.prefer_replica = prefer_replica
        self.replica: Replica | None = None
        self.chosen = False
        self.used_replica = False  # some read of this context was answered by a replica


_route: contextvars.ContextVar[ReadRoute | None] = contextvars.ContextVar("qinqing_read_route", default=None)


@contextmanager
def replica_reads() -> Iterator[ReadRoute]:
    """Reads in this block may go to a replica (writes still go to the primary)."""
    route = ReadRoute(prefer_replica=True)
    token = _route.set(route)
    try:
        yield route
    finally:
        _route.reset(token)


@contextmanager
def primary_only() -> Iterator[None]:
    """Everything in this block goes to the primary: a write, or a read that must see the latest."""
    current = _route.get()
    if current is None or not current.prefer_replica:
        yield
        return
    token = _route.set(ReadRoute(prefer_replica=False))
    try:
        yield
    finally:
        _route.reset(token)


def current_route() -> ReadRoute | None:
    return _route.get()


async def _lag_of(connection) -> tuple[bool, bool, float]:
    row = await connection.fetchrow(LAG_SQL, timeout=CONNECT_SECONDS)
    return bool(row["standby"]), bool(row["paused"]), float(row["lag"])


class ReplicaSet:
    """The replicas of one engine, checked as reads need them, taken in turn."""

    def __init__(self, replicas: list[Replica], max_lag: float):
        self.replicas = replicas
        self.max_lag = max_lag
        self.pooled = False  # the engine runs a pool: each replica gets one too
        self.fallbacks = 0  # replica-preferring reads this process sent to the primary
        self._turn = 0

    async def check(self, replica: Replica, force: bool = False) -> None:
        """Learn the replica's state and lag (at most every CHECK_SECONDS unless `force`)."""
        if not force and time.monotonic() - replica.checked_at < CHECK_SECONDS:
            return
        async with replica.lock:
            if not force and time.monotonic() - replica.checked_at < CHECK_SECONDS:
                return
            try:
                if replica.pool is None and self.pooled:
                    replica.pool = await asyncpg.create_pool(**replica.config, min_size=1, max_size=10,
                                                             reset=_keep_session, timeout=CONNECT_SECONDS)
                if replica.pool is not None:
                    try:
                        connection = await replica.pool.acquire(timeout=CONNECT_SECONDS)
                    except asyncio.TimeoutError:
                        if not _saturated(replica.pool):
                            raise
                        replica.checked_at = time.monotonic()  # every connection busy with reads: it answers
                        return
                    try:
                        standby, paused, lag = await _lag_of(connection)
                    finally:
                        await replica.pool.release(connection)
                else:
                    connection = await asyncpg.connect(**replica.config, timeout=CONNECT_SECONDS)
                    try:
                        standby, paused, lag = await _lag_of(connection)
                    finally:
                        await connection.close()
            except Exception as exc:  # noqa: BLE001 - any failure means: not this replica, for now
                replica.mark_down(exc)
                return
            replica.paused, replica.lag, replica.error, replica.checked_at = paused, lag, "", time.monotonic()
            previous = replica.state
            replica.state = "not a standby" if not standby else ("up" if lag <= self.max_lag else "lagging")
            if replica.state != previous:
                log.log(logging.INFO if replica.state == "up" else logging.WARNING, "replica %s: %s (lag %.1f s)",
                        replica.name, replica.state, lag)

    async def pick(self) -> Replica | None:
        """A replica fit to answer reads now, or None (then the primary answers)."""
        count = len(self.replicas)
        for step in range(count):
            replica = self.replicas[(self._turn + step) % count]
            await self.check(replica)
            if replica.usable(self.max_lag):
                self._turn = (self._turn + step + 1) % count
                return replica
        return None

    async def close(self) -> None:
        for replica in self.replicas:
            if replica.pool is not None:
                pool, replica.pool = replica.pool, None
                await pool.close()


def _saturated(pool) -> bool:
    """Every connection of `pool` open and in use: a wait for one says nothing of the server."""
    return pool.get_idle_size() == 0 and pool.get_size() >= pool.get_max_size()


async def _keep_session(connection) -> None:
    """No reset query on release (see `core.db._keep_session`)."""


class _RoutedPool:
    """What the engine shows Piccolo as its pool: `acquire()` takes a connection from the chosen
    replica's pool or the primary's, `release()` gives it back to the pool it came from."""

    def __init__(self, engine: RoutedEngine):
        self.engine = engine
        self.owners: dict[int, Any] = {}

    def acquire(self, *, timeout: float | None = None) -> _Acquisition:
        return _Acquisition(self, timeout)

    async def take(self, timeout: float | None):
        engine = self.engine
        replica = await engine.replica_for_read()
        if replica is not None and replica.pool is not None:
            try:
                connection = await replica.pool.acquire(timeout=CONNECT_SECONDS)
            except Exception as exc:  # noqa: BLE001 - the replica went away since its check, or is busy
                if not (isinstance(exc, asyncio.TimeoutError) and _saturated(replica.pool)):
                    replica.mark_down(exc)
                engine.fell_back()
            else:
                self.owners[id(connection)] = replica.pool
                engine.served_by(replica)
                return connection
        return await engine.primary_pool.acquire(timeout=timeout)

    async def release(self, connection, *, timeout: float | None = None) -> None:
        pool = self.owners.pop(id(connection), None) or self.engine.primary_pool
        await pool.release(connection, timeout=timeout)

    async def close(self) -> None:
        await self.engine.replica_set.close()
        await self.engine.primary_pool.close()


class _Acquisition:
    """`await pool.acquire()` or `async with pool.acquire() as connection`, as asyncpg allows."""

    __slots__ = ("pool", "timeout", "connection")

    def __init__(self, pool: _RoutedPool, timeout: float | None):
        self.pool, self.timeout, self.connection = pool, timeout, None

    def __await__(self):
        return self.pool.take(self.timeout).__await__()

    async def __aenter__(self):
        self.connection = await self.pool.take(self.timeout)
        return self.connection

    async def __aexit__(self, *exc_info) -> None:
        connection, self.connection = self.connection, None
        await self.pool.release(connection)


class RoutedEngine(PostgresEngine):
    """The primary's engine, reading from a replica where the context allows (see the module)."""

    def __init__(self, config: dict, replicas: list[Replica], max_lag: float, **kwargs):
        self.primary_pool: Any = None
        self.replica_set = ReplicaSet(replicas, max_lag)
        self._routed = _RoutedPool(self)
        super().__init__(config=config, **kwargs)

    @property
    def pool(self):
        if self.primary_pool is None or not self.replica_set.replicas:
            return self.primary_pool
        return self._routed

    @pool.setter
    def pool(self, value) -> None:
        if value is None or value is self._routed:
            self.primary_pool = None if value is None else self.primary_pool
        else:
            self.primary_pool = value
        self.replica_set.pooled = self.primary_pool is not None

    async def replica_for_read(self) -> Replica | None:
        """The replica this context's reads go to, chosen on its first read; None for the primary."""
        route = _route.get()
        if route is None or not route.prefer_replica or not self.replica_set.replicas:
            return None
        if not route.chosen:
            route.replica, route.chosen = await self.replica_set.pick(), True
            if route.replica is None:
                self.fell_back()
        elif route.replica is not None:  # a long context (the screen's stream): its replica checked again
            await self.replica_set.check(route.replica)
        if route.replica is not None and not route.replica.usable(self.replica_set.max_lag):
            route.replica = None  # went down or fell behind since: the rest of this context reads the primary
        return route.replica

    def served_by(self, replica: Replica) -> None:
        replica.reads += 1
        route = _route.get()
        if route is not None:
            route.used_replica = True

    def fell_back(self) -> None:
        self.replica_set.fallbacks += 1

    async def get_new_connection(self):
        """A connection of its own (no pool running): the replica's where the context allows."""
        replica = await self.replica_for_read()
        if replica is not None:
            try:
                connection = await asyncpg.connect(**replica.config, timeout=CONNECT_SECONDS)
            except Exception as exc:  # noqa: BLE001 - the replica went away since its check
                replica.mark_down(exc)
                self.fell_back()
            else:
                self.served_by(replica)
                return connection
        return await super().get_new_connection()

    async def close_connection_pool(self) -> None:
        await self.replica_set.close()
        if self.primary_pool is not None:
            pool, self.pool = self.primary_pool, None
            await pool.close()


def routed_engine(engine) -> RoutedEngine | None:
    """`engine` if it has replicas to route to, else None."""
    return engine if isinstance(engine, RoutedEngine) and engine.replica_set.replicas else None


def set_replicas(engine: RoutedEngine, configs: list[tuple[str, dict]], max_lag: float | None = None) -> None:
    """Give `engine` these replicas (name, asyncpg config) in place of its own — at start-up, or
    in a test that brought a replica up."""
    engine.replica_set.replicas = [Replica(name=name, config=config) for name, config in configs]
    if max_lag is not None:
        engine.replica_set.max_lag = max_lag


async def replica_overview(engine) -> ReplicaSet | None:
    """The replicas as the system console shows them, each checked just now; None without any."""
    routed = routed_engine(engine)
    if routed is None:
        return None
    for replica in routed.replica_set.replicas:
        await routed.replica_set.check(replica, force=True)
    return routed.replica_set
