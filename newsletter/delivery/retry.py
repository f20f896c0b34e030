"""When to try a deferred delivery again: exponential backoff with jitter, up to a maximum age.

Pure (no clock, no database): the caller gives `now`, and tests a seeded random generator.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    min_seconds: float = 60.0
    max_seconds: float = 3600.0
    max_age: timedelta = timedelta(hours=24)

    def delay(self, attempts: int, *, rng: random.Random | None = None) -> float:
        """2^(n-1) × min, capped, with "equal jitter": between half and all of it.

        Jitter spreads the retries of thousands of readers deferred by one relay hiccup.
        """
        base = min(self.max_seconds, self.min_seconds * 2 ** max(0, attempts - 1))
        return base / 2 + (rng or random).uniform(0, base / 2)

    def next_attempt(
        self,
        *,
        attempts: int,
        created_at: datetime,
        now: datetime,
        rng: random.Random | None = None,
    ) -> datetime | None:
        """The next attempt time, or None when it would fall past the maximum age (expired)."""
        at = now + timedelta(seconds=self.delay(attempts, rng=rng))
        return None if at - created_at > self.max_age else at
