"""The group pipeline: one claimed batch, group by group (SEND_GROUP_SIZE messages), through
its stages, over two ports (store.LedgerStore, stream.RelayPort):

  prepare    build a group's messages (substitution only), then wait for the rate cap
  hand over  ONE commit: the results of the group just landed (C3) and the fenced handoff of
             the next group (C2); only the next group's rows still ours are sent
  converse   the group's pipelined SMTP conversation, in the worker's sender thread
  land       wait for the oldest group in flight; the policy (policy.py) says what each reply
             means, and whether to stop; the pipeline carries it out after the commit

Overlap: the main thread prepares group N+1 while the relay works on group N. On PostgreSQL
the hand-over commit runs in the worker's writer thread, and group N+2 is prepared while it
waits for the disk; it goes to the relay only after its own handoff, and back to `pending`
unsent if that commit says stop. At most SEND_GROUPS_IN_FLIGHT groups are between their C2
and their C3 at any time: what a kill can leave `uncertain`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from newsletter.delivery import metrics, policy, rate_history
from newsletter.delivery.control import pause
from newsletter.delivery.readers import Reader
from newsletter.delivery.store import LedgerStore
from newsletter.delivery.stream import RelayPort, Stream
from newsletter.ledger import Batch, Claimed, Result
from newsletter.mail.pipelined import Envelope, Outcome, RelayError
from newsletter.mail.pipelined import Result as Smtp
from newsletter.models import db, utcnow
from newsletter.subscriptions.bounces import record_hard_bounces
from newsletter.subscriptions.service import Provenance

log = logging.getLogger("newsletter.delivery")
_AT_SEND = Provenance(source="delivery")  # the consent event of a reader bounced at send time

# A row to send, its reader, and its digest body (DigestBody: what `body.sections` says is
# recorded with the row once the relay accepts it).
Parcel = tuple[Claimed, Reader, Any]


class Composer(Protocol):
    """The seam into digests (newsletter.digests.compose.DigestComposer)."""

    def body_for(self, region_slugs: tuple[str, ...], language: str) -> Any: ...

    def message_for(
        self, body: Any, *, email: str, name: str | None, subscriber_id: int, message_id: str
    ) -> bytes: ...


@dataclass
class Clock:
    """CPU seconds per phase of the send path, for logs and the benchmark."""

    render: float = 0.0
    build: float = 0.0
    smtp: float = 0.0
    database: float = 0.0
    _mark: float = field(default_factory=time.thread_time)

    def lap(self, phase: str) -> None:
        now = time.thread_time()
        setattr(self, phase, getattr(self, phase) + now - self._mark)
        self._mark = now

    def skip(self) -> None:
        """What passed since the last lap was waiting, not work."""
        self._mark = time.thread_time()


@dataclass
class BatchReport:
    counts: dict[str, int] = field(default_factory=dict)
    stopped: str | None = None  # why the batch stopped early: paused, lease lost, relay
    relay_refused: bool = False  # ... because the relay refused readers in a row
    relay_paused: bool = False
    clock: Clock = field(default_factory=Clock)

    def count(self, results: Sequence[Result]) -> None:
        for r in results:
            self.counts[r.state.value] = self.counts.get(r.state.value, 0) + 1


def message_id(delivery_id: int, digest_id: int, *, secret: bytes, domain: str) -> str:
    """Deterministic: the same row always carries the same Message-ID (relay logs, DSNs)."""
    mac = _keyed(secret).copy()
    mac.update(f"{delivery_id}.{digest_id}".encode())
    return f"<d{delivery_id}.{digest_id}.{mac.hexdigest()[:8]}@{domain}>"


@functools.lru_cache(maxsize=4)
def _keyed(secret: bytes) -> hmac.HMAC:
    return hmac.new(secret, None, hashlib.sha256)  # copied per message: the key is set up once


@dataclass
class Built:
    """A prepared group: its messages, and what recording their replies needs."""

    rows: dict[int, Claimed]
    readers: dict[int, int]  # delivery id -> subscriber id
    envelopes: list[Envelope]
    mids: dict[int, str]
    sections: dict[int, int] = field(default_factory=dict)  # delivery id -> letter's sections


@dataclass
class Flight:
    """A group handed over (its C2 committed) and with the relay, not yet recorded."""

    built: Built
    future: Future[tuple[list[Outcome], float]]
    keys: list[int]


class GroupPipeline:
    """One batch's sendable rows through prepare → hand over → converse → land."""

    def __init__(
        self,
        batch: Batch,
        parcels: list[Parcel],
        *,
        composer: Composer,
        stream: Stream,
        store: LedgerStore,
        report: BatchReport,
    ) -> None:
        self.batch, self.parcels, self.composer = batch, parcels, composer
        self.stream, self.store, self.report = stream, store, report
        size = max(1, stream.group_size)
        self.groups = [parcels[i : i + size] for i in range(0, len(parcels), size)]
        self.position = 0  # the next group to prepare
        self.flights: deque[Flight] = deque()  # handed over, not yet recorded
        self.prebuilt: Built | None = None  # prepared while the last commit waited for the disk
        self.renewed = time.monotonic()  # the claim just set the lease
        # The send rates limited now (keys of adaptive.py), read at each prepare: empty while
        # nothing is throttled, and then nothing below costs a thing.
        self.rates: dict[str, float] = {}
        self.postponed: list[tuple[int, datetime]] = []  # held back by a domain's rate
        self.held: dict[str, int] = {}  # rows held back per key in this batch
        self.tallies: dict[str, rate_history.Tally] = {}  # of the group landed, to note
        self.throttled: set[str] = set()  # keys the landed group's replies slow down

    def run(self) -> BatchReport:
        """Every row ends recorded, released, or (if killed) handed over: uncertain."""
        while self._turn():
            pass
        self._postpone()
        if self.report.stopped:
            # Rows never handed over go back to pending (the fence spares every other row).
            self.store.release(self.batch, [row.id for row, _, _ in self.parcels])
            self.store.cancel_leftovers(self.batch.digest_id)
        return self.report

    def _turn(self) -> bool:
        """Ready the next group, land the oldest in flight when it must, commit both, send the
        next. False when nothing is left to send or to land."""
        upcoming = self._upcoming()
        landed = self._due(upcoming)
        results = [] if landed is None else self.land(landed)
        if self.report.stopped:
            upcoming = None  # the relay is down, refuses us, or the digest stopped: no more
        if upcoming is None and landed is None:
            return False
        self._postpone()
        ours = self.hand_over(results, upcoming)
        self._after_commit(landed, results)
        if upcoming is not None:
            self.converse(upcoming, ours)
        return True

    def _upcoming(self) -> Built | None:
        upcoming, self.prebuilt = (self.prebuilt if self.report.stopped is None else None), None
        if upcoming is None and self.report.stopped is None and self.position < len(self.groups):
            upcoming = self._prepare_next()
        return upcoming

    def _due(self, upcoming: Built | None) -> Flight | None:
        """The oldest group in flight, once nothing is left to send or the flights are full."""
        full = len(self.flights) >= max(1, self.stream.in_flight)
        return self.flights.popleft() if self.flights and (upcoming is None or full) else None

    # -- prepare ------------------------------------------------------------------------------

    def _prepare_next(self) -> Built:
        built = self.prepare(self.groups[self.position])
        self.position += 1
        return built

    def prepare(self, group: list[Parcel]) -> Built:
        """The group's messages, each with its deterministic Message-ID; then the rate cap.
        Rows for a domain over its adaptive rate are held back (deferred), not waited for."""
        stream, digest_id, clock = self.stream, self.batch.digest_id, self.report.clock
        built = Built({}, {}, [], {})
        rates = self.rates = stream.pacer.rates() if stream.pacer is not None else {}
        for row, reader, body in group:
            if rates and self._hold(row, reader.email):
                continue
            mid = message_id(row.id, digest_id, secret=stream.secret, domain=stream.domain)
            data = self.composer.message_for(
                body, email=reader.email, name=reader.name, subscriber_id=reader.id, message_id=mid
            )
            built.envelopes.append(Envelope(row.id, reader.email, data))
            built.mids[row.id] = mid
            built.sections[row.id] = body.sections
            built.rows[row.id] = row
            built.readers[row.id] = reader.id
        clock.lap("build")
        stream.throttle.acquire(len(built.envelopes))
        if rates:
            # Limited domains last: a 421 closes the connection, and what follows it in the
            # group goes back untried; so it does not hold back the other domains.
            built.envelopes.sort(key=lambda e: policy.domain_key(e.rcpt) in rates)
            relay = rates.get(policy.RELAY_KEY)
            if relay is not None and stream.pacer is not None:
                stream.pacer.wait(policy.RELAY_KEY, relay, len(built.envelopes))
        clock.skip()
        return built

    def _hold(self, row: Claimed, email: str) -> bool:
        """Over its domain's rate: deferred to about its turn, never handed over."""
        key = policy.domain_key(email)
        rate = self.rates.get(key)
        if rate is None or self.stream.pacer is None or self.stream.pacer.admit(key, rate):
            return False
        ahead = self.held.get(key, 0)
        self.held[key] = ahead + 1
        seconds = (1.0 + ahead / rate) * random.uniform(1.0, 1.3)  # spread, not a herd
        self.postponed.append((row.id, utcnow() + timedelta(seconds=seconds)))
        return True

    def _postpone(self) -> None:
        if self.postponed:
            self.store.postpone(self.batch, self.postponed)
            self.postponed = []

    # -- hand over ----------------------------------------------------------------------------

    def hand_over(self, results: list[Result], upcoming: Built | None) -> set[int]:
        """C3 of the landed group and C2 of the upcoming one, in one commit; returns the
        upcoming rows still ours. While that commit waits (PostgreSQL), the group after is
        prepared: nothing of it goes out before its own handoff."""
        # Heartbeat: renew the batch's lease once a third of it is gone, not at every group.
        lease = self.stream.lease_seconds
        renew = upcoming is not None and time.monotonic() - self.renewed > lease / 3
        rest = [k for f in self.flights for k in f.keys]
        rest += [row.id for group in self.groups[self.position :] for row, _, _ in group]
        next_ids = [e.key for e in upcoming.envelopes] if upcoming else []
        clock = self.report.clock
        clock.lap("database")
        settling = self._settle(results, next_ids, renew=renew, rest=rest)
        try:
            if upcoming is not None and self.position < len(self.groups) and not settling.done():
                self.prebuilt = self._prepare_next()  # dropped unsent if this commit says stop
        finally:
            ours, cpu = settling.result()  # the connection is ours again, whatever happened
        clock.database += cpu
        clock.skip()  # waiting for the commit is not work
        if renew:
            self.renewed = time.monotonic()
        return ours

    def _settle(
        self, results: list[Result], next_ids: list[int], *, renew: bool, rest: list[int]
    ) -> Future[tuple[set[int], float]]:
        """store.settle in the writer thread when the store allows it, else in this one.
        Resolves to (rows ours, CPU seconds)."""

        def timed() -> tuple[set[int], float]:
            cpu = time.thread_time()
            ours = self.store.settle(
                self.batch,
                results,
                next_ids,
                lease_seconds=self.stream.lease_seconds,
                renew=renew,
                rest=rest,
            )
            return ours, time.thread_time() - cpu

        if self.store.writer_thread:
            return self.stream.writer().submit(timed)
        done: Future[tuple[set[int], float]] = Future()
        done.set_result(timed())
        return done

    # -- converse -----------------------------------------------------------------------------

    def converse(self, upcoming: Built, ours: set[int]) -> None:
        """Start the group's SMTP conversation in the sender thread, for its rows still ours."""
        envelopes = upcoming.envelopes
        if len(ours) < len(envelopes):
            # Paused, cancelled, or our lease ran out: send none of what is not ours, stop.
            envelopes = [e for e in envelopes if e.key in ours]
            self.report.stopped = "digest no longer sending or lease lost"
        if not envelopes:
            return
        watch, digest_id = self.stream.halt, self.batch.digest_id
        halted = None if watch is None else functools.partial(watch.halted, digest_id)
        future = self.stream.sender().submit(_converse, self.stream.connection, envelopes, halted)
        self.flights.append(Flight(upcoming, future, [e.key for e in envelopes]))

    # -- land ---------------------------------------------------------------------------------

    def land(self, flight: Flight) -> list[Result]:
        """Wait for the group's replies; their results, to record. Sets report.stopped when the
        policy says stop: the relay is down, it refused readers in a row, or a halt stands."""
        report = self.report
        try:
            outcomes, cpu = flight.future.result()
        except RelayError as exc:
            self._relay_down(flight, exc)
            return []
        report.clock.smtp += cpu
        report.clock.skip()  # waiting for the thread is not work
        if any(o.result is Smtp.NOT_SENT for o in outcomes) and self._halt_stands():
            report.stopped = report.stopped or "digest paused or cancelled"
        refusals = self.stream.refusals
        if refusals.observe(outcomes) and report.stopped is None:
            report.stopped = refusals.stop_reason
            report.relay_refused = True
        self._tally(flight, outcomes)
        built, retry, now = flight.built, self.stream.retry, utcnow()
        return [
            policy.result_of(
                o,
                built.rows[o.key],
                built.mids.get(o.key),
                retry=retry,
                now=now,
                sections=built.sections.get(o.key),
            )
            for o in outcomes
        ]

    def _tally(self, flight: Flight, outcomes: list[Outcome]) -> None:
        """Which keys the replies slow down, and the figures of the limited ones."""
        if not self.rates and all(o.result is not Smtp.TEMPORARY for o in outcomes):
            return  # the common case: nothing limited, nothing refused for now
        rcpts = {e.key: e.rcpt for e in flight.built.envelopes}
        self.throttled = policy.throttle_keys(outcomes, rcpts)
        counts: dict[str, list[int]] = {}
        relay = policy.RELAY_KEY in self.rates
        for o in outcomes:
            key = policy.domain_key(rcpts[o.key])
            for counted in (key, policy.RELAY_KEY) if relay else (key,):
                if counted in self.rates or counted in self.throttled:
                    sent_throttled = counts.setdefault(counted, [0, 0])
                    if o.result is Smtp.ACCEPTED:
                        sent_throttled[0] += 1
                    elif o.result is Smtp.TEMPORARY and policy.is_throttle(o.code, o.reply):
                        sent_throttled[1] += 1
        self.tallies = {
            key: rate_history.Tally(self.rates.get(key), sent, throttled)
            for key, (sent, throttled) in counts.items()
        }

    def _halt_stands(self) -> bool:
        digest_id = self.batch.digest_id
        if policy.halt_stands(self.store.digest_state(digest_id)[0]):
            return True
        if self.stream.halt is not None:
            self.stream.halt.forget(digest_id)  # stale news: it must not stop the next group
        return False

    def _relay_down(self, flight: Flight, exc: RelayError) -> None:
        if policy.relay_throttled(exc):
            self.throttled = {policy.RELAY_KEY}
            self.tallies = {policy.RELAY_KEY: rate_history.Tally(None, 0, 1)}
        down = policy.relay_down(exc, flight.keys)
        self.store.record(self.batch, down.results, durable=True)
        if down.pause is not None:
            pause(self.batch.digest_id, reason=down.pause)
        else:
            log.warning("delivery.relay_unreachable digest=%s error=%s", self.batch.digest_id, exc)
        self.report.stopped = self.report.stopped or down.stop

    def _after_commit(self, flight: Flight | None, results: list[Result]) -> None:
        """What the landed results call for once they are committed: hard bounces (by the
        rule DSNs follow, subscriptions/bounces.py), and the pause after relay refusals."""
        report = self.report
        self._slow_down()
        if results and flight is not None:
            readers = flight.built.readers
            bounced = [readers[i] for i in policy.reader_bounces(results)]
            if bounced:
                record_hard_bounces(
                    bounced, provenance=_AT_SEND, threshold=self.stream.hard_bounces
                )
                db.session.commit()
            report.count(results)
            if report.relay_refused:
                self._pause_for_relay(first=not report.relay_paused)
                report.relay_paused = True
        report.clock.lap("database")

    def _slow_down(self) -> None:
        """Cut the rates the replies asked for (shared by every worker), and note the figures."""
        pacer = self.stream.pacer
        if self.throttled and pacer is not None:
            pacer.throttled(self.throttled)
            for key, rate in pacer.rates().items():
                if key in self.tallies:
                    tally = self.tallies[key]
                    self.tallies[key] = rate_history.Tally(rate, tally.sent, tally.throttled)
        if self.tallies:
            rate_history.note(self.batch.digest_id, self.tallies)
        self.throttled, self.tallies = set(), {}

    def _pause_for_relay(self, *, first: bool) -> None:
        """Pause the digest (once) and reopen the refused rows: the relay's fault, not theirs."""
        refusals = self.stream.refusals
        if first:
            pause(self.batch.digest_id, reason=refusals.pause_reason())
        self.store.reopen(refusals.ids)
        refusals.clear()


def _converse(
    sender: RelayPort, envelopes: list[Envelope], halted: Callable[[], bool] | None
) -> tuple[list[Outcome], float]:
    """In the sender thread: one group's conversation; (outcomes, CPU seconds)."""
    cpu, started = time.thread_time(), time.perf_counter()
    outcomes = sender.send_group(envelopes, halted=halted)
    metrics.observe_send(time.perf_counter() - started, len(envelopes))
    return outcomes, time.thread_time() - cpu
