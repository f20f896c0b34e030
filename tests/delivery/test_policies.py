"""Retry backoff, and the send-rate cap shared by several processes through Redis."""

from __future__ import annotations

import os
import random
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from newsletter.delivery.retry import RetryPolicy
from newsletter.delivery.throttle import Throttle

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def test_deferrals_back_off_exponentially_with_jitter_and_expire_at_the_maximum_age() -> None:
    policy = RetryPolicy(min_seconds=60, max_seconds=3600, max_age=timedelta(hours=24))
    rng = random.Random(1)
    delays = [policy.delay(n, rng=rng) for n in range(1, 10)]

    assert 30 <= delays[0] <= 60
    assert 60 <= delays[1] <= 120 and 120 <= delays[2] <= 240
    assert all(1800 <= d <= 3600 for d in delays[6:])  # capped
    assert len({round(policy.delay(3), 3) for _ in range(20)}) > 1  # jittered
    assert policy.next_attempt(attempts=1, created_at=NOW, now=NOW) is not None
    late = NOW + timedelta(hours=23, minutes=59)
    assert policy.next_attempt(attempts=5, created_at=NOW, now=late) is None


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="needs TEST_REDIS_URL")
def test_the_rate_cap_holds_across_processes_sharing_redis() -> None:
    import redis

    client = redis.Redis.from_url(os.environ["TEST_REDIS_URL"])
    key = f"send-rate-test:{os.getpid()}:{time.time()}"
    seconds: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        # Each thread has its own Throttle and Redis connection, as each worker process does.
        throttle = Throttle(
            per_second=10,
            per_hour=0,
            key=key,
            redis=redis.Redis.from_url(os.environ["TEST_REDIS_URL"]),
        )
        for _ in range(15):
            throttle.acquire(1)
            with lock:
                seconds.append(int(time.time()))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # The shared counters, one per one-second window: never more than the cap in any.
    windows = [int(client.get(name) or 0) for name in client.keys(f"{key}:1:*")]
    assert sum(windows) == 30 == len(seconds)
    assert max(windows) <= 10
    assert len(windows) >= 3
