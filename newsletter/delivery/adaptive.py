"""Adaptive send rates: after a throttle reply the rate of its key (the relay, or one recipient
domain) is cut multiplicatively, then grows back additively (AIMD), shared by every worker.

A key is "relay" or "domain:<d>". A key never throttled has no limit here (the relay's own cap,
throttle.py, still holds). At a throttle reply its rate becomes max(min, rate × factor), at most
once per interval, so a burst of replies from one window cuts it once; every calm interval adds
`step`; at the ceiling the key is forgotten. State: with REDIS_URL a Redis hash, else the table
`send_rates`; the rate now is computed from the cut rate and the time since (nothing to tick).
Pacing counts messages per one-second window and key: in Redis (shared), else in this process
for its share (rate / SEND_PARALLEL, as the relay's cap does).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa

from newsletter.ledger.rows import writing
from newsletter.models import SendRate, db


@dataclass(frozen=True)
class Aimd:
    """The rule, pure: rates in messages per second, times in seconds."""

    start: float  # the rate assumed at a key's first throttle reply
    minimum: float
    maximum: float  # recovered to this: no limit any more
    factor: float
    step: float
    interval: float

    def rate_now(self, cut: float, since: float) -> float | None:
        """The rate `since` seconds after it was cut to `cut`; None once recovered."""
        rate = cut + self.step * math.floor(max(0.0, since) / self.interval)
        return None if rate >= self.maximum else rate

    def cut(self, current: float | None) -> float:
        return max(self.minimum, (self.start if current is None else current) * self.factor)


class RateStore(Protocol):
    def cuts(self) -> dict[str, tuple[float, float]]:
        """Every throttled key: (cut rate, epoch seconds of the cut)."""
        ...

    def throttle(self, key: str, now: float) -> None:
        """A throttle reply for `key` at `now`: cut its rate, unless cut within the interval."""
        ...

    def take(self, key: str, window: int, limit: int) -> bool:
        """One message more for `key` in the one-second `window`, if under `limit`."""
        ...


# KEYS[1] the hash; ARGV: key, now, start, minimum, maximum, factor, step, interval.
_THROTTLE_LUA = """
local v = redis.call('HGET', KEYS[1], ARGV[1])
local now = tonumber(ARGV[2])
local current = nil
if v then
  local sep = string.find(v, '|')
  local cut, at = tonumber(string.sub(v, 1, sep - 1)), tonumber(string.sub(v, sep + 1))
  if now - at < tonumber(ARGV[8]) then return 0 end
  current = cut + tonumber(ARGV[7]) * math.floor((now - at) / tonumber(ARGV[8]))
  if current >= tonumber(ARGV[5]) then current = nil end
end
local rate = math.max(tonumber(ARGV[4]), (current or tonumber(ARGV[3])) * tonumber(ARGV[6]))
redis.call('HSET', KEYS[1], ARGV[1], string.format('%.6f|%.6f', rate, now))
return 1
"""

_TAKE_LUA = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], 5) end
if n > tonumber(ARGV[1]) then redis.call('DECR', KEYS[1]) return 0 end
return 1
"""


@dataclass
class RedisRates:
    redis: Any
    prefix: str  # one relay's keys: "send-rates:<host>:<port>"
    aimd: Aimd

    def cuts(self) -> dict[str, tuple[float, float]]:
        found = self.redis.hgetall(self.prefix)
        out = {}
        for name, value in found.items():
            cut, at = value.decode().split("|")
            out[name.decode()] = (float(cut), float(at))
        return out

    def throttle(self, key: str, now: float) -> None:
        a = self.aimd
        self.redis.eval(
            _THROTTLE_LUA, 1, self.prefix, key, now,
            a.start, a.minimum, a.maximum, a.factor, a.step, a.interval,
        )  # fmt: skip

    def take(self, key: str, window: int, limit: int) -> bool:
        return bool(self.redis.eval(_TAKE_LUA, 1, f"{self.prefix}:{key}:{window}", limit))


@dataclass
class TableRates:
    """send_rates in the database; the windows counted in this process."""

    aimd: Aimd
    prefix: str
    _windows: dict[str, tuple[int, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def cuts(self) -> dict[str, tuple[float, float]]:
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.select(SendRate.key, SendRate.rate, SendRate.throttled_at).where(
                    SendRate.key.startswith(self.prefix + ":")
                )
            ).all()
        return {k[len(self.prefix) + 1 :]: (r, at.timestamp()) for k, r, at in rows}

    def throttle(self, key: str, now: float) -> None:
        name, at = f"{self.prefix}:{key}", datetime.fromtimestamp(now, tz=UTC)
        with db.engine.connect() as fresh, writing(fresh) as conn:
            row = conn.execute(
                sa.select(SendRate.rate, SendRate.throttled_at).where(SendRate.key == name)
            ).first()
            if row is None:
                conn.execute(
                    sa.insert(SendRate).values(key=name, rate=self.aimd.cut(None), throttled_at=at)
                )
                return
            since = now - row.throttled_at.timestamp()
            if since < self.aimd.interval:
                return  # cut within this interval already (by any worker)
            rate = self.aimd.cut(self.aimd.rate_now(row.rate, since))
            # Fenced on the cut we read: of two workers racing, one cuts.
            conn.execute(
                sa.update(SendRate)
                .where(SendRate.key == name, SendRate.throttled_at == row.throttled_at)
                .values(rate=rate, throttled_at=at)
            )

    def take(self, key: str, window: int, limit: int) -> bool:
        with self._lock:
            seen, count = self._windows.get(key, (window, 0))
            count = count if seen == window else 0
            if count >= limit:
                return False
            self._windows[key] = (window, count + 1)
            return True


@dataclass
class Pacer:
    """One worker's view of the adaptive rates: which keys are limited now, and their windows."""

    store: RateStore
    aimd: Aimd
    share: float = 1.0  # this process's part of a key's rate (1 with Redis)
    refresh_seconds: float = 0.5
    _cuts: dict[str, tuple[float, float]] = field(default_factory=dict)
    _read_at: float = -math.inf

    def rates(self) -> dict[str, float]:
        """The limited keys and their rates now (re-read every `refresh_seconds`)."""
        now = time.time()
        if time.monotonic() - self._read_at > self.refresh_seconds:
            self._cuts = self.store.cuts()
            self._read_at = time.monotonic()
        out = {}
        for key, (cut, at) in self._cuts.items():
            rate = self.aimd.rate_now(cut, now - at)
            if rate is not None:
                out[key] = rate
        return out

    def admit(self, key: str, rate: float) -> bool:
        """May one more message go to `key` now, at `rate` messages per second?"""
        rate *= self.share
        span = 1 if rate >= 1 else math.ceil(1 / rate)
        window = int(time.time() // span)
        return self.store.take(key, window, max(1, int(rate * span)))

    def wait(self, key: str, rate: float, count: int) -> None:
        """Block until `count` messages may go to `key`: for the relay, which every message
        goes through (a domain's messages are held back instead, so others go on)."""
        for _ in range(count):
            while not self.admit(key, rate):
                time.sleep(0.02)

    def throttled(self, keys: set[str]) -> None:
        now = time.time()
        for key in keys:
            self.store.throttle(key, now)
        self._read_at = -math.inf  # read the new rates at the next look


def pacer_for(config: Any, *, redis: Any, prefix: str) -> Pacer:
    start = config["SEND_THROTTLE_START_RATE"] or config["SEND_RATE_PER_SECOND"] or 100.0
    aimd = Aimd(
        start=start,
        minimum=config["SEND_THROTTLE_MIN_RATE"],
        maximum=config["SEND_THROTTLE_MAX_RATE"] or start,
        factor=config["SEND_THROTTLE_DECREASE"],
        step=config["SEND_THROTTLE_STEP"],
        interval=config["SEND_THROTTLE_INTERVAL_SECONDS"],
    )
    if redis is not None:
        return Pacer(RedisRates(redis, prefix, aimd), aimd)
    return Pacer(TableRates(aimd, prefix), aimd, share=1 / max(1, config["SEND_PARALLEL"]))
