"""Messages per second and per hour to one relay, held across every worker process on Redis.

With REDIS_URL each window is a Redis counter shared by all workers (INCRBY, then give back and
wait if over). Without Redis the cap is kept in this process, divided by SEND_PARALLEL: a fair
share, since each drain task runs in its own process.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Throttle:
    per_second: float
    per_hour: int
    key: str
    redis: Any = None  # a redis.Redis, or None for a local cap
    _local: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self, count: int) -> None:
        """Block until `count` more messages may go to the relay."""
        windows = []
        if self.per_second > 0:
            span = 1 if self.per_second >= 1 else math.ceil(1 / self.per_second)
            windows.append((span, max(1, int(self.per_second * span))))
        if self.per_hour > 0:
            windows.append((3600, self.per_hour))
        if not windows:
            return
        while count > 0:
            step = min(count, *(limit for _, limit in windows))
            while not self._take(windows, step):
                span = min(span for span, _ in windows)
                time.sleep(span - (time.time() % span) + 0.001)
            count -= step

    def _take(self, windows: list[tuple[int, int]], step: int) -> bool:
        now = time.time()
        taken: list[tuple[str, int]] = []
        for span, limit in windows:
            name = f"{self.key}:{span}:{int(now // span)}"
            if self._incr(name, step, span) > limit:
                self._incr(name, -step, span)
                for back_name, back_span in taken:
                    self._incr(back_name, -step, back_span)
                return False
            taken.append((name, span))
        return True

    def _incr(self, name: str, amount: int, span: int) -> int:
        if self.redis is not None:
            pipe = self.redis.pipeline()
            pipe.incrby(name, amount)
            pipe.expire(name, span + 5)
            return int(pipe.execute()[0])
        with self._lock:
            # Only the current window of each span is kept.
            prefix = name.rsplit(":", 1)[0] + ":"
            for old in [k for k in self._local if k.startswith(prefix) and k != name]:
                del self._local[old]
            self._local[name] = self._local.get(name, 0) + amount
            return self._local[name]
