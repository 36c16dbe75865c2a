"""The load run's clients (压力测试客户端): async httpx clients filing, reading, dispatching and refusing
cases, each POST with an `Idempotency-Key` and retried with the same key after no answer or a 503;
and the tally of what they saw.  Used by `bench.load` and `bench.faults`."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field

EXPECTED = {"submit": 201, "dispatch": 200, "accept": 200, "refuse": 200}  # reads: 200
RETRIES = 5  # a request is sent at most 1 + RETRIES times
MAX_RETRY_AFTER = 10.0  # seconds: a longer Retry-After is cut to this


@dataclass
class Tally:
    """What the clients saw: statuses and latencies per kind of request, the cases created."""

    statuses: Counter = field(default_factory=Counter)  # (kind, status) → n; status 0 = no answer
    latencies: dict = field(default_factory=lambda: defaultdict(list))  # kind → seconds
    created: dict = field(default_factory=lambda: defaultdict(dict))  # slug → {nonce: case id}
    sent: dict = field(default_factory=lambda: defaultdict(set))  # slug → nonces submitted, answered or not
    retries: Counter = field(default_factory=Counter)  # (kind, why: "503" or the transport error) → n
    replays: Counter = field(default_factory=Counter)  # kind → answers marked Idempotent-Replayed
    five_xx: Counter = field(default_factory=Counter)  # every 5xx answer seen, retried or final: status → n
    samples: list = field(default_factory=list)  # the first unexpected answers, for the report
    retry_samples: list = field(default_factory=list)  # why the first retries were needed
    seconds: float = 0.0

    def unexpected(self) -> int:
        return sum(n for (kind, status), n in self.statuses.items() if status != EXPECTED.get(kind, 200))

    def server_errors(self) -> int:
        """Final answers ≥ 500 (after the retries)."""
        return sum(n for (_, status), n in self.statuses.items() if status >= 500)

    def dropped(self) -> int:
        return sum(n for (_, status), n in self.statuses.items() if status == 0)

    def requests(self) -> int:
        return sum(self.statuses.values())

    def retried(self) -> int:
        return sum(self.retries.values())


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


def retry_after(response) -> float:
    """The seconds a 503 asks the client to wait (Retry-After in seconds; 1 if absent)."""
    try:
        return min(MAX_RETRY_AFTER, max(0.0, float(response.headers.get("retry-after", "1"))))
    except ValueError:
        return 1.0


class Driver:
    """`clients` concurrent callers spread over the tenants and web processes."""

    def __init__(self, kits: dict, bases: list[str], tally: Tally | None = None):
        self.kits, self.bases = kits, bases
        self.tally = tally or Tally()
        self.to_dispatch = {slug: deque() for slug in kits}
        self.to_refuse = {slug: deque() for slug in kits}

    async def call(self, http, kind: str, method: str, url: str, token: str, body: dict | None = None):
        """One request as a careful client sends it: a POST carries a fresh Idempotency-Key, and
        a request that got no answer or a 503 is sent again, the same key with it, up to RETRIES
        times.  Counted once, by its last answer (status 0: none); its latency spans the retries."""
        import httpx

        headers = {"Authorization": f"Bearer {token}"}
        if method != "GET":
            headers["Idempotency-Key"] = uuid.uuid4().hex
        started = time.perf_counter()
        response, failure = None, ""
        for attempt in range(RETRIES + 1):
            try:
                response = await http.request(method, url, json=body, headers=headers)
            except httpx.TransportError as exc:  # dropped, refused, timed out: safe to send again
                response, why, wait = None, exc.__class__.__name__, min(5.0, 0.25 * 2 ** attempt)
                failure = f"{why}: {exc}"
            except Exception as exc:  # noqa: BLE001 - anything else is counted, not raised nor retried
                response, failure = None, f"{exc.__class__.__name__}: {exc}"
                break
            else:
                if response.status_code >= 500:
                    self.tally.five_xx[response.status_code] += 1
                if response.status_code != 503:
                    break
                why, wait, failure = "503", retry_after(response), response.text[:300]
            if attempt == RETRIES:
                break
            self.tally.retries[(kind, why)] += 1
            if len(self.tally.retry_samples) < 10:
                self.tally.retry_samples.append(f"{kind} {method} {url.split('/api/v1/')[-1]} → {failure[:200]}")
            await asyncio.sleep(wait * random.uniform(1.0, 1.25))
        self.tally.latencies[kind].append(time.perf_counter() - started)
        if response is None:
            self.tally.statuses[(kind, 0)] += 1
            self._sample(kind, 0, failure)
            return None
        self.tally.statuses[(kind, response.status_code)] += 1
        if response.headers.get("idempotent-replayed") == "true":
            self.tally.replays[kind] += 1
        if response.status_code != EXPECTED.get(kind, 200):
            self._sample(kind, response.status_code, response.text[:300])
        return response

    def _sample(self, kind, status, text):
        if len(self.tally.samples) < 20:
            self.tally.samples.append(f"{kind} → {status or 'no answer'}: {text}")

    async def client(self, http, number: int, cases: int, slug: str, base: str, stop=None) -> None:
        kit = self.kits[slug]
        company = kit["companies"][number % len(kit["companies"])]
        api = f"{base}/t/{slug}/api/v1/cases"
        tokens = kit["tokens"]
        for i in range(cases):
            if stop is not None and stop.is_set():
                break
            nonce = uuid.uuid4().hex
            self.tally.sent[slug].add(nonce)
            response = await self.call(http, "submit", "POST", api, company["token"], {
                "category": "municipal", "title": f"压测诉求 {slug} {number}-{i} {nonce}",
                "description": "厂区附近排水管淤积，雨天积水倒灌进车间，请尽快疏通。"})
            if response is not None and response.status_code == 201:
                case_id = response.json()["id"]
                self.tally.created[slug][nonce] = case_id
                await self.call(http, "read", "GET", f"{api}/{case_id}", company["token"])
                self.to_dispatch[slug].append(case_id)
            if i % 2 == 1:
                await self.call(http, "list", "GET", f"{api}?per_page=20", tokens["dispatcher"])
            if i % 2 == 0 and self.to_dispatch[slug]:
                case_id = self.to_dispatch[slug].popleft()
                response = await self.call(http, "dispatch", "POST", f"{api}/{case_id}/dispatch",
                                           tokens["dispatcher"], {})
                if response is not None and response.status_code == 200 and case_id % 2 == 0:
                    self.to_refuse[slug].append(case_id)
            if i % 4 == 1 and self.to_refuse[slug]:
                case_id = self.to_refuse[slug].popleft()
                response = await self.call(http, "accept", "POST", f"{api}/{case_id}/accept", tokens["handler"], {})
                if response is not None and response.status_code == 200:
                    await self.call(http, "refuse", "POST", f"{api}/{case_id}/refuse", tokens["handler"],
                                    {"reason": "不符合现行政策", "basis": "某某条例第五条"})

    async def run(self, cases: int, clients: int, stop: asyncio.Event | None = None) -> Tally:
        """Drive `cases` cases (or fewer: until `stop` is set) with `clients` concurrent clients."""
        import httpx

        slugs = sorted(self.kits)
        # Idle connections are dropped before the server's 5 s keep-alive timeout would close them
        # under a request just being sent (which the client would see as a dropped connection).
        limits = httpx.Limits(max_connections=clients + 10, max_keepalive_connections=clients + 10,
                              keepalive_expiry=2.0)
        async with httpx.AsyncClient(timeout=httpx.Timeout(120.0), limits=limits) as http:
            jobs = []
            for number in range(clients):
                share = cases // clients + (1 if number < cases % clients else 0)
                jobs.append(self.client(http, number, share, slugs[number % len(slugs)],
                                        self.bases[number % len(self.bases)], stop))
            started = time.perf_counter()
            await asyncio.gather(*jobs)
            self.tally.seconds = time.perf_counter() - started
        return self.tally
