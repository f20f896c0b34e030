"""send_batch: one claimed batch, in groups, through one kept SMTP connection per worker process.

For each group of SEND_GROUP_SIZE messages (default 20), as a pipeline of two stages:
  main thread:   build group N+1 (substitution only) while earlier groups are with the relay,
                 land the oldest group in flight, then ONE commit: its C3 results and the
                 C2 handoff of group N+1 (fenced)
  sender thread: the pipelined SMTP conversations, in order, one group after another
At most SEND_GROUPS_IN_FLIGHT groups (default 2) per worker are between their C2 and their
C3 at any time: a kill leaves at most those rows `sending` with a handoff marker; the
reconciler turns them `uncertain` and never re-sends them. So after any number of kills:
duplicates = 0, and uncertain rows <= SEND_GROUP_SIZE x SEND_GROUPS_IN_FLIGHT per kill of a
sending worker. A pause heard over Redis (halt.py) stops the sender thread before its next
message; the handed-over rows it did not start are recorded `pending`, never sent.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa

from newsletter.delivery import ledger, metrics
from newsletter.delivery.halt import HaltWatch
from newsletter.delivery.ledger import Batch, Claimed, Result
from newsletter.delivery.retry import RetryPolicy
from newsletter.delivery.throttle import Throttle
from newsletter.mail.pipelined import Envelope, Outcome, RelayError, SmtpConnection
from newsletter.mail.pipelined import Result as Smtp
from newsletter.models import (
    DeliveryState,
    DigestStatus,
    Region,
    Subscriber,
    SubscriberStatus,
    db,
    subscriber_regions,
    utcnow,
)
from newsletter.subscriptions.bounces import record_hard_bounces
from newsletter.subscriptions.service import Provenance

log = logging.getLogger("newsletter.delivery")
_AT_SEND = Provenance(source="delivery")  # the consent event of a reader bounced at send time


class Body(Protocol):
    subject: str


class Composer(Protocol):
    """The seam into digests (newsletter.digests.compose.DigestComposer)."""

    def body_for(self, region_slugs: tuple[str, ...], language: str) -> Any: ...

    def message_for(
        self, body: Any, *, email: str, name: str | None, subscriber_id: int, message_id: str
    ) -> bytes: ...


@dataclass(frozen=True)
class Reader:
    id: int
    email: str
    name: str | None
    language: str
    sendable: bool
    region_slugs: tuple[str, ...]


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


@dataclass
class Stream:
    """What one worker keeps between batches: the connection, the throttle, refusal streak."""

    connection: SmtpConnection
    throttle: Throttle
    group_size: int
    in_flight: int  # groups handed over and not yet recorded, at most
    lease_seconds: float
    retry: RetryPolicy
    secret: bytes
    domain: str
    hard_bounces: int
    pause_after_rejects: int
    relay_streak: list[int] = field(default_factory=list)
    relay_reply: str = ""
    halt: HaltWatch | None = None  # pause/cancel news from Redis, checked before each message
    _sender: ThreadPoolExecutor | None = None
    _writer: ThreadPoolExecutor | None = None

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


@dataclass
class BatchReport:
    counts: dict[str, int] = field(default_factory=dict)
    stopped: str | None = None  # why the batch stopped early: paused, lease lost, relay
    relay_refused: bool = False  # ... because the relay refused readers in a row
    relay_paused: bool = False
    clock: Clock = field(default_factory=Clock)


def favour_the_smtp_thread() -> None:
    """For a process that sends, once at its start: a reply from the relay must not wait 5 ms
    (Python's default switch interval) for the thread building the next group to let go of the
    GIL, a wait that would be per message. Process-wide, so not set from inside the sender."""
    sys.setswitchinterval(0.0005)


def message_id(delivery_id: int, digest_id: int, *, secret: bytes, domain: str) -> str:
    """Deterministic: the same row always carries the same Message-ID (relay logs, DSNs)."""
    mac = _keyed(secret).copy()
    mac.update(f"{delivery_id}.{digest_id}".encode())
    return f"<d{delivery_id}.{digest_id}.{mac.hexdigest()[:8]}@{domain}>"


@functools.lru_cache(maxsize=4)
def _keyed(secret: bytes) -> hmac.HMAC:
    return hmac.new(secret, None, hashlib.sha256)  # copied per message: the key is set up once


def load_readers(ids: Sequence[int]) -> dict[int, Reader]:
    """The batch's readers and their regions (menu order), in two queries."""
    if not ids:
        return {}
    if db.session.get_bind().dialect.name == "postgresql":
        return _load_readers_pg(ids)
    s = Subscriber.__table__
    slugs: dict[int, list[str]] = {}
    for subscriber_id, slug in db.session.execute(
        sa.select(subscriber_regions.c.subscriber_id, Region.slug)
        .join(Region, Region.id == subscriber_regions.c.region_id)
        .where(subscriber_regions.c.subscriber_id.in_(ids))
        .order_by(subscriber_regions.c.subscriber_id, Region.position)
    ):
        slugs.setdefault(subscriber_id, []).append(slug)
    readers = {}
    for row in db.session.execute(
        sa.select(s.c.id, s.c.email, s.c.name, s.c.language, s.c.status, s.c.paused).where(
            s.c.id.in_(ids)
        )
    ):
        # Re-checked at send time: an unsubscribe after planning is honoured.
        sendable = row.status == SubscriberStatus.CONFIRMED and not row.paused
        readers[row.id] = Reader(
            row.id, row.email, row.name, row.language, sendable, tuple(slugs.get(row.id, ()))
        )
    db.session.rollback()  # end the read transaction: nothing here is held across SMTP
    return readers


_READERS_PG = sa.text(
    """
    SELECT s.id, s.email, s.name, s.language, s.status, s.paused,
           array_remove(array_agg(r.slug ORDER BY r.position), NULL) AS slugs
    FROM subscribers AS s
    LEFT JOIN subscriber_regions AS sr ON sr.subscriber_id = s.id
    LEFT JOIN regions AS r ON r.id = sr.region_id
    WHERE s.id = ANY(CAST(:ids AS bigint[]))
    GROUP BY s.id
    """
)


def _load_readers_pg(ids: Sequence[int]) -> dict[int, Reader]:
    """The same in one statement and one text parameter (no list of 200 bound values)."""
    readers = {}
    confirmed = SubscriberStatus.CONFIRMED.value
    for row in db.session.execute(_READERS_PG, {"ids": ledger.id_array(ids)}):
        sendable = row.status == confirmed and not row.paused
        readers[row.id] = Reader(
            row.id, row.email, row.name, row.language, sendable, tuple(row.slugs)
        )
    db.session.rollback()
    return readers


def send_batch(batch: Batch, *, composer: Composer, stream: Stream) -> BatchReport:
    """Send one claimed batch; every row ends recorded, released, or (if killed) uncertain."""
    with db.engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            return _send_batch(batch, composer=composer, stream=stream, conn=conn, fast=conn)
        # Each ledger write here is one statement: autocommit saves BEGIN's round trip.
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        with db.engine.connect() as other:
            # Results (C3) need not wait for the WAL flush: if PostgreSQL itself crashed and
            # lost one, the row would stay `sending` with its handoff marker, and the
            # reconciler would make it `uncertain`: never a duplicate. The handoff (C2) stays
            # synchronous: it is what stops a second send.
            fast = other.execution_options(isolation_level="AUTOCOMMIT")
            fast.exec_driver_sql("SET synchronous_commit TO off")
            try:
                return _send_batch(batch, composer=composer, stream=stream, conn=conn, fast=fast)
            finally:
                fast.exec_driver_sql("RESET synchronous_commit")


def _send_batch(
    batch: Batch, *, composer: Composer, stream: Stream, conn: sa.Connection, fast: sa.Connection
) -> BatchReport:
    report = BatchReport()
    todo = _sendable(batch, composer, report, fast)
    groups = list(_groups(todo, max(1, stream.group_size)))
    flights: deque[Flight] = deque()  # handed over, not yet recorded: at most `in_flight`
    renewed = time.monotonic()  # the claim just set the lease
    position = 0
    prebuilt: Built | None = None  # built while the last commit waited for the disk
    while True:
        # Build the next group while the relay works on the ones in flight.
        upcoming, prebuilt = (prebuilt if report.stopped is None else None), None
        if upcoming is None and report.stopped is None and position < len(groups):
            upcoming = _build(groups[position], batch, composer, stream, report.clock)
            position += 1
        landed, results = None, []
        if flights and (upcoming is None or len(flights) >= max(1, stream.in_flight)):
            landed = flights.popleft()
            results = _land(landed, batch, stream, report)
        if report.stopped:
            upcoming = None  # the relay is down, refuses us, or the digest stopped: no more
        if upcoming is None and landed is None:
            break
        # Heartbeat: renew the batch's lease once a third of it is gone, not at every group.
        renew = upcoming is not None and time.monotonic() - renewed > stream.lease_seconds / 3
        rest = [k for f in flights for k in f.keys]
        rest += [row.id for group in groups[position:] for row, _, _ in group]
        report.clock.lap("database")
        settling = _settle(
            stream,
            batch,
            results,
            [e.key for e in upcoming.envelopes] if upcoming else [],
            renew=renew,
            rest=rest,
            conn=conn if upcoming else fast,
        )
        try:
            if upcoming is not None and position < len(groups) and not settling.done():
                # Nothing of this group goes out before its handoff is committed; meanwhile
                # the next one is built (dropped unsent if this commit says we must stop).
                prebuilt = _build(groups[position], batch, composer, stream, report.clock)
                position += 1
        finally:
            ours, cpu = settling.result()  # the connection is ours again, whatever happened
        report.clock.database += cpu
        report.clock._mark = time.thread_time()  # waiting for the commit is not work
        renewed = time.monotonic() if renew else renewed
        _after_record(batch, results, landed, stream, report)
        if upcoming is not None:
            envelopes = upcoming.envelopes
            if len(ours) < len(envelopes):
                # Paused, cancelled, or our lease ran out: send none of what is not ours, stop.
                envelopes = [e for e in envelopes if e.key in ours]
                report.stopped = "digest no longer sending or lease lost"
            if envelopes:
                flights.append(_take_off(stream, envelopes, upcoming, batch.digest_id))
    if report.stopped:
        # Rows never handed over go back to pending (the fence spares every other row).
        ledger.release(batch, [row.id for row, _, _ in todo], conn=conn)
        ledger.cancel_leftovers(batch.digest_id, conn=conn)
    return report


def _settle(
    stream: Stream,
    batch: Batch,
    results: list[Result],
    next_ids: list[int],
    *,
    renew: bool,
    rest: list[int],
    conn: sa.Connection,
) -> Future[tuple[set[int], float]]:
    """C3 + C2 (ledger.settle) in the writer thread on PostgreSQL; in this thread on SQLite,
    whose connections stay in the thread that opened them. Returns (rows ours, CPU seconds)."""

    def timed() -> tuple[set[int], float]:
        cpu = time.thread_time()
        ours = ledger.settle(
            batch,
            results,
            next_ids,
            lease_seconds=stream.lease_seconds,
            renew=renew,
            rest=rest,
            conn=conn,
        )
        return ours, time.thread_time() - cpu

    if conn.dialect.name == "postgresql":
        return stream.writer().submit(timed)
    done: Future[tuple[set[int], float]] = Future()
    done.set_result(timed())
    return done


def _sendable(
    batch: Batch, composer: Composer, report: BatchReport, fast: sa.Connection
) -> list[tuple[Claimed, Reader, Any]]:
    """The batch's rows to send, with reader and body; the others recorded `skipped` now."""
    clock = report.clock
    readers = load_readers([r.subscriber_id for r in batch.rows if r.subscriber_id])
    clock.lap("database")
    skipped: list[Result] = []
    todo: list[tuple[Claimed, Reader, Any]] = []
    for row in batch.rows:
        reader = readers.get(row.subscriber_id or 0)
        if reader is None or not reader.sendable:
            skipped.append(Result(row.id, DeliveryState.SKIPPED, reply="no longer subscribed"))
            continue
        body = composer.body_for(reader.region_slugs, reader.language)
        if body is None:
            skipped.append(Result(row.id, DeliveryState.SKIPPED, reply="nothing new"))
            continue
        todo.append((row, reader, body))
    clock.lap("render")
    ledger.record(batch, skipped, conn=fast)
    clock.lap("database")
    _count(report, skipped)
    return todo


@dataclass
class Built:
    rows: dict[int, Claimed]
    readers: dict[int, int]  # delivery id -> subscriber id
    envelopes: list[Envelope]
    mids: dict[int, str]


@dataclass
class Flight:
    built: Built
    future: Future[tuple[list[Outcome], float]]
    keys: list[int]


def _build(
    group: list[tuple[Claimed, Reader, Any]],
    batch: Batch,
    composer: Composer,
    stream: Stream,
    clock: Clock,
) -> Built:
    built = Built({}, {}, [], {})
    for row, reader, body in group:
        mid = message_id(row.id, batch.digest_id, secret=stream.secret, domain=stream.domain)
        data = composer.message_for(
            body, email=reader.email, name=reader.name, subscriber_id=reader.id, message_id=mid
        )
        built.envelopes.append(Envelope(row.id, reader.email, data))
        built.mids[row.id] = mid
        built.rows[row.id] = row
        built.readers[row.id] = reader.id
    clock.lap("build")
    stream.throttle.acquire(len(built.envelopes))
    clock._mark = time.thread_time()  # waiting is not work
    return built


def _take_off(stream: Stream, envelopes: list[Envelope], built: Built, digest_id: int) -> Flight:
    """Start the group's SMTP conversation in the worker's sender thread (after its C2)."""
    watch = stream.halt
    halted = None if watch is None else functools.partial(watch.halted, digest_id)
    future = stream.sender().submit(_converse, stream.connection, envelopes, halted)
    return Flight(built, future, [e.key for e in envelopes])


def _converse(
    connection: SmtpConnection, envelopes: list[Envelope], halted: Callable[[], bool] | None
) -> tuple[list[Outcome], float]:
    cpu, started = time.thread_time(), time.perf_counter()
    outcomes = connection.send_group(envelopes, halted=halted)
    metrics.observe_send(time.perf_counter() - started, len(envelopes))
    return outcomes, time.thread_time() - cpu


def _land(flight: Flight, batch: Batch, stream: Stream, report: BatchReport) -> list[Result]:
    """Wait for the group's SMTP conversation; its results, to record. Sets report.stopped
    when we must stop: the relay is down (the group, not sent, is back to pending), or it
    refused SEND_PAUSE_AFTER_REJECTS readers in a row."""
    try:
        outcomes, cpu = flight.future.result()
    except RelayError as exc:
        reason = _relay_down(batch, flight.keys, exc)
        report.stopped = report.stopped or reason
        return []
    report.clock.smtp += cpu
    report.clock._mark = time.thread_time()  # waiting for the thread is not work
    built = flight.built
    if any(o.result is Smtp.NOT_SENT for o in outcomes) and _halt_stands(batch, stream):
        report.stopped = report.stopped or "digest paused or cancelled"
    if _relay_streak_full(outcomes, stream) and report.stopped is None:
        report.stopped = f"relay refused {stream.pause_after_rejects} readers in a row"
        report.relay_refused = True
    return [_result(o, built.rows[o.key], built.mids.get(o.key), stream.retry) for o in outcomes]


def _halt_stands(batch: Batch, stream: Stream) -> bool:
    """The sender stopped on news of a halt: true unless the digest is sending after all (the
    news was late, behind a resume and a fresh claim). Its unsent rows are pending either way."""
    if ledger.digest_state(batch.digest_id)[0] is not DigestStatus.SENDING:
        return True
    if stream.halt is not None:
        stream.halt.forget(batch.digest_id)
    return False


def _after_record(
    batch: Batch,
    results: list[Result],
    flight: Flight | None,
    stream: Stream,
    report: BatchReport,
) -> None:
    if results and flight is not None:
        _bounce(results, flight.built.readers, stream)
        _count(report, results)
        if report.relay_refused:
            _pause_for_relay(batch, stream, first=not report.relay_paused)
            report.relay_paused = True
    report.clock.lap("database")


def _groups(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _count(report: BatchReport, results: Sequence[Result]) -> None:
    for r in results:
        report.counts[r.state.value] = report.counts.get(r.state.value, 0) + 1


def _result(outcome: Outcome, row: Claimed, mid: str | None, retry: RetryPolicy) -> Result:
    """SMTP outcome -> ledger state (the table in docs/delivery.md)."""
    reply = f"{outcome.code} {outcome.reply}".strip()
    if outcome.result is Smtp.NOT_SENT:  # halted before its MAIL FROM: back to the queue
        return Result(row.id, DeliveryState.PENDING, None, "not sent: digest halted")
    if outcome.result is Smtp.TEMPORARY:
        now = utcnow()
        at = retry.next_attempt(attempts=row.attempts, created_at=row.created_at, now=now)
        if at is None:
            return Result(row.id, DeliveryState.EXPIRED, outcome.code, reply, mid)
        return Result(row.id, DeliveryState.DEFERRED, outcome.code, reply, mid, at)
    state = {
        Smtp.ACCEPTED: DeliveryState.SENT,
        Smtp.UNKNOWN: DeliveryState.UNCERTAIN,
        Smtp.PERMANENT: DeliveryState.FAILED,
    }[outcome.result]
    return Result(row.id, state, outcome.code or None, reply, mid)


def is_relay_refusal(code: int, reply: str) -> bool:
    """Our problem, not the reader's: a command or message the relay cannot parse (500-504,
    5.5.x, 5.6.x), auth required or refused (530, 535), relaying denied or policy (5.7.x)."""
    text = reply.lower()
    return (
        500 <= code <= 504
        or code in (530, 535)
        or text.startswith(("5.5.", "5.6.", "5.7."))
        or "relay" in text
    )


def _relay_streak_full(outcomes: Sequence[Outcome], stream: Stream) -> bool:
    """Count relay refusals in a row; True once SEND_PAUSE_AFTER_REJECTS is reached."""
    for o in outcomes:
        if o.result is Smtp.PERMANENT and is_relay_refusal(o.code, o.reply):
            stream.relay_streak.append(o.key)
            stream.relay_reply = f"{o.code} {o.reply}"
        elif o.result in (Smtp.ACCEPTED, Smtp.PERMANENT):
            stream.relay_streak.clear()  # the relay took or judged a reader: not its fault
    return (
        bool(stream.pause_after_rejects) and len(stream.relay_streak) >= stream.pause_after_rejects
    )


RELAY_PAUSE = "the relay refused"


def _pause_for_relay(batch: Batch, stream: Stream, *, first: bool) -> None:
    """Pause the digest (once) and reopen the refused rows: the relay's fault, not theirs."""
    if first:
        reason = (
            f"{RELAY_PAUSE} {len(stream.relay_streak)} readers in a row "
            f"({stream.relay_reply}); fix the relay settings, then resume"
        )
        from newsletter.delivery.control import pause

        pause(batch.digest_id, reason=reason)
    ledger.reopen(stream.relay_streak)
    stream.relay_streak.clear()


def reopen_refused_streak(digest_id: int, stream: Stream) -> None:
    """Another worker paused the digest for the relay's refusals while this one was being
    refused too: this worker's refused rows in a row were the relay's fault as well."""
    if not stream.relay_streak:
        return
    status, reason = ledger.digest_state(digest_id)
    if status is DigestStatus.PAUSED and (reason or "").startswith(RELAY_PAUSE):
        ledger.reopen(stream.relay_streak)
        stream.relay_streak.clear()


def _relay_down(batch: Batch, ids: list[int], exc: RelayError) -> str:
    """No connection: the group goes back to pending (not the readers' fault)."""
    ledger.record(batch, [Result(i, DeliveryState.PENDING, exc.code, exc.reply) for i in ids])
    if exc.permanent:
        from newsletter.delivery.control import pause

        reason = f"the relay refused our login or session ({exc}); fix SMTP_URL, then resume"
        pause(batch.digest_id, reason=reason)
        return reason
    log.warning("delivery.relay_unreachable digest=%s error=%s", batch.digest_id, exc)
    return f"relay unreachable: {exc}"


def _bounce(results: Sequence[Result], readers: dict[int, int], stream: Stream) -> None:
    """5xx to a reader (not a relay refusal): one more hard bounce, by the same rule as a DSN
    (subscriptions/bounces.py), for the whole group at once."""
    ids = [
        readers[r.delivery_id]
        for r in results
        if r.state is DeliveryState.FAILED and not is_relay_refusal(r.code or 0, _text(r.reply))
    ]
    if not ids:
        return
    record_hard_bounces(ids, provenance=_AT_SEND, threshold=stream.hard_bounces)
    db.session.commit()


def _text(reply: str | None) -> str:
    # Our stored reply is "<code> <text>": the relay test looks at the text.
    return (reply or "").split(" ", 1)[-1]
