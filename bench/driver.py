"""The load driver: a fixed number of concurrent callers, a warm-up that is not counted, then N
calls (or until a time limit); every call timed with `perf_counter`.  The same driver times HTTP
requests (httpx, keep-alive over loopback) and raw SQL (asyncpg), so a page and its baseline
are measured the same way."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)  # milliseconds, measured calls only
    seconds: float = 0.0
    errors: int = 0  # any non-2xx/3xx answer or exception
    server_errors: int = 0  # 5xx or exception
    statuses: dict[int, int] = field(default_factory=dict)
    calls: int = 0  # including the warm-up

    def percentile(self, p: float) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        rank = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
        return ordered[rank]

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def summary(self) -> dict:
        return {"n": len(self.latencies), "errors": self.errors, "server_errors": self.server_errors,
                "p50": _r(self.percentile(50)), "p95": _r(self.percentile(95)), "p99": _r(self.percentile(99)),
                "rps": round(self.throughput, 1), "seconds": round(self.seconds, 2),
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())}}


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


Call = Callable[[int], Awaitable[int]]

TURNS = 3  # how many turns a measurement and its baselines take (`measure_in_turns`)


async def measure(name: str, call: Call, *, concurrency: int, warmup: int, count: int,
                  max_seconds: float | None = None, duration: float | None = None) -> Result:
    """Run `call(i)` (returning a status code) `warmup` times, then `count` times or for
    `duration` seconds (sustained), with `concurrency` callers; stop early after `max_seconds`
    (the warm-up after a third of it).  Calls in flight when time is up still finish."""
    result = Result(name)
    limit = duration if duration is not None else max_seconds
    await _phase(call, result, concurrency, warmup, limit / 3 if limit else None, record=False)
    started = time.perf_counter()
    await _phase(call, result, concurrency, count if duration is None else None, limit, record=True)
    result.seconds = time.perf_counter() - started
    return result


async def measure_in_turns(calls: list[tuple[str, Call]], *, concurrency: int, warmup: int, count: int,
                           max_seconds: float | None = None, duration: float | None = None,
                           turns: int = TURNS) -> list[Result]:
    """Each call measured as `measure` would, but taking turns (A, B, A, B, …): each turn has a
    `turns`-th of the count and of the time, the warm-up goes in each call's first turn.  A shared
    machine's speed drifts over minutes; taking turns lets the drift meet a page and its baseline
    alike, so their ratio holds still."""
    results = [Result(name) for name, _ in calls]
    limit = duration if duration is not None else max_seconds
    share = limit / turns if limit else None
    per_turn = None if duration is not None else -(-count // turns)
    for turn in range(turns):
        for result, (_, call) in zip(results, calls):
            if turn == 0:
                await _phase(call, result, concurrency, warmup, share / 3 if share else None, record=False)
            started = time.perf_counter()
            await _phase(call, result, concurrency, per_turn, share, record=True)
            result.seconds += time.perf_counter() - started
    return results


async def _phase(call: Call, result: Result, concurrency: int, count: int | None, seconds: float | None,
                 record: bool) -> None:
    if count is not None and count <= 0:
        return
    deadline = time.perf_counter() + seconds if seconds else None
    issued = 0

    async def caller():
        nonlocal issued
        while True:
            if count is not None and issued >= count:
                return
            if deadline is not None and time.perf_counter() >= deadline:
                return
            index = result.calls
            issued += 1
            result.calls += 1
            start = time.perf_counter()
            try:
                status = await call(index)
            except Exception:  # noqa: BLE001 - a failed call is counted, not fatal
                status = 0
            elapsed = (time.perf_counter() - start) * 1000
            if not record:
                continue
            result.latencies.append(elapsed)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if not 200 <= status < 400:
                result.errors += 1
                if status == 0 or status >= 500:
                    result.server_errors += 1

    await asyncio.gather(*(caller() for _ in range(concurrency)))
