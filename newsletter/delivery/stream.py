"""What one worker process keeps between batches: its SMTP sender, its threads, its settings
and the relay's refusal streak. drain.py makes one per process and relay."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from newsletter.delivery.adaptive import Pacer
from newsletter.delivery.halt import HaltWatch
from newsletter.delivery.policy import RefusalStreak
from newsletter.delivery.retry import RetryPolicy
from newsletter.delivery.throttle import Throttle
from newsletter.mail.pipelined import Envelope, Outcome


class RelayPort(Protocol):
    """The relay as the pipeline sees it (newsletter.mail.pipelined.SmtpConnection)."""

    def send_group(
        self, envelopes: Sequence[Envelope], *, halted: Callable[[], bool] | None = None
    ) -> list[Outcome]:
        """One outcome per envelope, in order; RelayError when no conversation was possible.
        `halted` is asked before each message: once true, the rest are NOT_SENT."""
        ...

    def close(self) -> None: ...


@dataclass
class Stream:
    """A worker's sending state, kept between batches and tasks."""

    connection: RelayPort
    throttle: Throttle
    group_size: int
    in_flight: int  # groups handed over and not yet recorded, at most
    lease_seconds: float
    retry: RetryPolicy
    secret: bytes
    domain: str
    hard_bounces: int
    pause_after_rejects: int
    halt: HaltWatch | None = None  # pause/cancel news from Redis, checked before each message
    pacer: Pacer | None = None  # the adaptive rates after throttle replies (adaptive.py)
    refusals: RefusalStreak = field(init=False)
    _sender: ThreadPoolExecutor | None = None
    _writer: ThreadPoolExecutor | None = None

    def __post_init__(self) -> None:
        self.refusals = RefusalStreak(limit=self.pause_after_rejects)

    def sender(self) -> ThreadPoolExecutor:
        """One thread per worker for the SMTP conversation, so building overlaps the relay."""
        if self._sender is None:
            # favour_the_smtp_thread() is in effect in worker processes (worker/celery_app.py).
            self._sender = ThreadPoolExecutor(1, thread_name_prefix="smtp")
        return self._sender

    def writer(self) -> ThreadPoolExecutor:
        """One thread per worker for the ledger's commits on PostgreSQL, so that building the
        group after next overlaps the wait for the disk (the handoff's commit is durable)."""
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="ledger")
        return self._writer

    def close(self) -> None:
        for pool in (self._sender, self._writer):
            if pool is not None:
                pool.shutdown(wait=True)
        self._sender = self._writer = None
        self.connection.close()


def favour_the_smtp_thread() -> None:
    """For a process that sends, once at its start: a reply from the relay must not wait 5 ms
    (Python's default switch interval) for the thread building the next group to let go of the
    GIL, a wait that would be per message. Process-wide, so not set from inside the sender."""
    sys.setswitchinterval(0.0005)
