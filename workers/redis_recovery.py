"""A Redis broker whose consumers give back what a lost connection stranded (断线找回).

Dramatiq's Redis consumer fetches messages by moving their ids into this worker's ack set.  When
the connection breaks, the consumer thread starts a new consumer, but some of those messages are
held by nobody: a fetch whose reply the broker never sent (Redis stopped right after running it),
and the delayed retries kept in the consumer thread's memory, which it drops on a connection
error.  Their ids stay in the ack set of a worker that is still alive, so Redis's own maintenance
(which requeues only a dead worker's messages) never moves them, and they wait for the worker's
restart.

`RecoveringRedisBroker` remembers, per queue, which messages its consumers handed to worker
threads and are not yet acknowledged.  When a queue's consumer is started again, everything in the
ack set that is not in a worker thread's hands goes back on the queue — for a delay queue, all of
it, since the delayed messages were in the dropped memory.  A message is then delivered again
rather than never; the actors apply each message once.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict

import redis
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.errors import ConnectionClosed

log = logging.getLogger("qinqing.workers")


class _Consumer(_RedisConsumer):
    """Records each message it hands out in the broker's per-queue `in_hand`, until its ack."""

    def __next__(self):
        message = super().__next__()
        if message is not None:
            self.broker.hold(self.queue_name, message.options["redis_message_id"])
        return message

    def ack(self, message):
        try:
            super().ack(message)
        finally:
            self.broker.release(self.queue_name, message.options["redis_message_id"])

    def nack(self, message):
        try:
            super().nack(message)
        finally:
            self.broker.release(self.queue_name, message.options["redis_message_id"])


class RecoveringRedisBroker(RedisBroker):
    def __init__(self, **options):
        super().__init__(**options)
        self._lock = threading.Lock()
        self._in_hand: dict[str, set[str]] = defaultdict(set)
        self._consumed: set[str] = set()

    @property
    def consumer_class(self):
        return _Consumer

    def hold(self, queue_name: str, redis_id: str) -> None:
        with self._lock:
            self._in_hand[queue_name].add(redis_id)

    def release(self, queue_name: str, redis_id: str) -> None:
        with self._lock:
            self._in_hand[queue_name].discard(redis_id)

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000):
        if queue_name in self._consumed:
            self.recover(queue_name)
        self._consumed.add(queue_name)
        return super().consume(queue_name, prefetch, timeout)

    def recover(self, queue_name: str) -> int:
        """Put back on `queue_name` what this worker fetched and no worker thread holds; returns
        how many.  Raises ConnectionClosed while Redis is unreachable (the consumer thread tries
        again after Dramatiq's restart delay, 3 s)."""
        delayed = queue_name.endswith(".DQ")
        try:
            fetched = {member.decode() for member in
                       self.client.smembers(f"{self.namespace}:__acks__.{self.broker_id}.{queue_name}")}
            with self._lock:
                if delayed:  # the consumer thread dropped its delay queue: nothing delayed is held
                    self._in_hand[queue_name].clear()
                stranded = fetched - self._in_hand[queue_name]
            if stranded:
                self.do_requeue(queue_name, *sorted(stranded))
        except redis.ConnectionError as error:
            raise ConnectionClosed(error) from None
        if stranded:
            log.warning("requeued %d message(s) stranded on %s by a lost connection", len(stranded), queue_name)
        return len(stranded)
