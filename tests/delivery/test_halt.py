"""Pause news over Redis: heard by the workers of the same database only."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from newsletter.delivery import halt
from tests.conftest import TEST_REDIS_URL

pytestmark = pytest.mark.skipif(not TEST_REDIS_URL, reason="halt news travels over Redis")
PRODUCTION = "postgresql://db.example/production"
STAGING = "postgresql://db.example/staging"


def soon(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_a_pause_halts_digest_5_of_its_own_database_not_of_another_sharing_redis() -> None:
    production = halt.watch(TEST_REDIS_URL, PRODUCTION)
    staging = halt.watch(TEST_REDIS_URL, STAGING)
    time.sleep(0.2)  # both listeners subscribed

    halt.announce(TEST_REDIS_URL, STAGING, 5, halted=True)
    assert soon(lambda: staging.halted(5))
    assert not production.halted(5)

    halt.announce(TEST_REDIS_URL, STAGING, 5, halted=False)
    assert soon(lambda: not staging.halted(5))
