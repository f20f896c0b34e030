"""A pause or cancel reaches every sending worker within about a millisecond, over Redis.

The ledger's fence (C2: "digest still sending") stops a worker at its next handoff, which can
be SEND_GROUPS_IN_FLIGHT x SEND_GROUP_SIZE messages later. To stop within one message, pause
and cancel also publish the digest's id on a Redis channel; each worker process listens in a
daemon thread and keeps the set of halted digests, which the SMTP thread checks before every
message (a set lookup: free). The message being written when the news arrives completes; the
handed-over messages after it go back to `pending`, never sent. Resume publishes the reverse.

The channel is named after the database: Redis pub/sub ignores database numbers, so two
deployments sharing one Redis (staging and production) must not halt each other's digest 5.

Without Redis (the embedded dev setup) nothing is published and the fence alone applies.
Losing a publication (Redis restarting) costs only speed of stopping, never correctness:
the fence still holds at the next handoff.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from typing import Any

import redis

log = logging.getLogger("newsletter.delivery")

CHANNEL = "newsletter.delivery.halt"


def channel(database_url: str) -> str:
    """The channel of one database's digests (a digest id means nothing in another one)."""
    return f"{CHANNEL}:{hashlib.sha256(database_url.encode()).hexdigest()[:16]}"


def announce(redis_url: str | None, database_url: str, digest_id: int, *, halted: bool) -> None:
    """Tell every worker that a digest stopped (or goes again). Best effort, after commit."""
    if not redis_url:
        return
    try:
        client = redis.Redis.from_url(redis_url, socket_timeout=2)
        client.publish(channel(database_url), f"{'halt' if halted else 'go'} {digest_id}")
        client.close()
    except redis.RedisError as exc:  # the fence still stops the workers at their next handoff
        log.warning("delivery.halt_not_published digest=%s error=%s", digest_id, exc)


class HaltWatch:
    """The digests halted by an editor, as this worker process last heard from Redis."""

    def __init__(self, redis_url: str, channel: str) -> None:
        self._url = redis_url
        self._channel = channel
        self._halted: set[int] = set()
        thread = threading.Thread(target=self._listen, name="halt-watch", daemon=True)
        thread.start()

    def halted(self, digest_id: int) -> bool:
        return digest_id in self._halted

    def forget(self, digest_id: int) -> None:
        """A fresh claim of a sending digest: an old halt no longer applies."""
        self._halted.discard(digest_id)

    def _listen(self) -> None:
        while True:
            try:
                client = redis.Redis.from_url(self._url)
                pubsub: Any = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self._channel)
                for message in pubsub.listen():
                    self._apply(message.get("data", b""))
            except redis.RedisError as exc:
                log.warning("delivery.halt_watch_lost error=%s", exc)
                time.sleep(1.0)

    def _apply(self, data: bytes | str) -> None:
        text = data.decode() if isinstance(data, bytes) else str(data)
        verb, _, number = text.partition(" ")
        if not number.isdigit():
            return
        if verb == "halt":
            self._halted.add(int(number))
        elif verb == "go":
            self._halted.discard(int(number))


_watches: dict[tuple[int, str, str], HaltWatch] = {}
_lock = threading.Lock()


def watch(redis_url: str, database_url: str) -> HaltWatch:
    """The process's one listener for this Redis and database (threads do not survive a fork:
    keyed by pid)."""
    key = (os.getpid(), redis_url, channel(database_url))
    with _lock:
        if key not in _watches:
            _watches[key] = HaltWatch(redis_url, key[2])
        return _watches[key]
