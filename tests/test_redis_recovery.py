"""A lost connection to Redis strands no message: what a worker had fetched but no worker thread
held goes back on the queue when its consumer starts again (workers.redis_recovery).

Runs on the suite's Redis (TEST_BROKER_URL=redis://...), each test in a namespace of its own."""

import os
import threading
import time
import uuid

import dramatiq
import pytest
import redis

from workers.redis_recovery import RecoveringRedisBroker

BROKER_URL = os.environ.get("BROKER_URL") or ""
pytestmark = pytest.mark.skipif(not BROKER_URL.startswith("redis"),
                                reason="needs Redis: runs when TEST_BROKER_URL is a redis:// URL (.ci/run sets it)")
QUEUE = "recovery"


class Harness:
    """A broker in a private namespace, one actor that records what it applied, and a way to make
    the broker lose the reply of one fetch on a queue (the fetch runs; the consumer sees an error)."""

    def __init__(self):
        self.namespace = f"qinqing-test-{uuid.uuid4().hex[:12]}"
        self.broker = RecoveringRedisBroker(url=BROKER_URL, namespace=self.namespace)
        self.applied: list[int] = []
        self.lock = threading.Lock()

        def record(n):
            with self.lock:
                self.applied.append(n)

        self.actor = dramatiq.actor(record, actor_name="record", queue_name=QUEUE, broker=self.broker)
        self.worker = None

    def lose_fetch_reply(self, queue_name: str, *, after: int = 0) -> None:
        """The first fetch on `queue_name` after `after` fetches that brought messages runs on
        Redis, but its reply is lost: the consumer sees the connection close."""
        dispatch, state = self.broker._dispatch("fetch"), {"full": 0, "lost": False}

        def fetch(name, *args):
            result = dispatch(name, *args)
            if name == queue_name and not state["lost"]:
                if state["full"] >= after:
                    state["lost"] = True
                    raise redis.ConnectionError("Connection closed by server.")
                state["full"] += bool(result)
            return result

        self.broker.do_fetch = fetch

    def start(self):
        self.worker = dramatiq.Worker(self.broker, worker_threads=2, worker_timeout=100)
        self.worker.start()

    def wait_applied(self, count: int, seconds: float = 20.0) -> list[int]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and len(self.applied) < count:
            time.sleep(0.1)
        time.sleep(0.3)  # and nothing more arrives
        return sorted(self.applied)

    def acks(self, queue_name: str) -> int:
        return self.broker.client.scard(f"{self.namespace}:__acks__.{self.broker.broker_id}.{queue_name}")

    def close(self):
        if self.worker is not None:
            self.worker.stop()
        keys = list(self.broker.client.scan_iter(f"{self.namespace}:*"))
        if keys:
            self.broker.client.delete(*keys)
        self.broker.close()


@pytest.fixture
def harness():
    made = Harness()
    try:
        yield made
    finally:
        made.close()


def test_messages_whose_fetch_reply_was_lost_are_delivered_after_the_reconnect(harness):
    for n in range(5):
        harness.actor.send(n)
    harness.lose_fetch_reply(QUEUE)
    harness.start()
    assert harness.wait_applied(5) == [0, 1, 2, 3, 4]
    assert harness.acks(QUEUE) == 0


def test_a_delayed_retry_held_in_memory_survives_the_lost_connection(harness):
    harness.actor.send_with_options(args=(7,), delay=1500)
    # The delayed message is fetched into the consumer's memory; the next fetch on the delay
    # queue fails, and the consumer thread drops what it kept in memory.
    harness.lose_fetch_reply(f"{QUEUE}.DQ", after=1)
    harness.start()
    assert harness.wait_applied(1, seconds=15) == [7]
    assert harness.acks(f"{QUEUE}.DQ") == 0


def test_a_message_in_a_worker_threads_hands_is_not_sent_again():
    made = Harness()
    try:
        made.actor.send(1)
        made.actor.send(2)
        first = made.broker.consume(QUEUE, prefetch=1)
        held = next(first)  # handed to a worker thread, not yet acknowledged
        assert held is not None
        made.broker.do_fetch(QUEUE, 1)  # fetched, its reply lost
        again = made.broker.consume(QUEUE, prefetch=2)  # the consumer thread starts a new consumer
        recovered = next(again)
        assert recovered is not None and recovered.args != held.args
        assert next(again) is None  # the held message was not put back
        again.ack(held)
        again.ack(recovered)
        assert made.acks(QUEUE) == 0
    finally:
        made.close()
