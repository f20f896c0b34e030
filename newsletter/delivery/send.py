"""send_batch: one claimed batch, in groups, through one kept SMTP connection per worker process.

For each group of SEND_GROUP_SIZE messages (default 20):
  build every message (substitution only)  ->  C2 hand_over (fenced, one commit)
  -> pipelined SMTP for the group           ->  C3 record every outcome (one commit)
A kill between C2 and C3 leaves at most one group per worker `sending` with a handoff marker;
the reconciler turns those rows `uncertain` and never re-sends them. So after any number of
kills: duplicates = 0, and uncertain rows <= SEND_GROUP_SIZE per kill of a sending worker.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any, Protocol

import sqlalchemy as sa

from newsletter.delivery import ledger, metrics
from newsletter.delivery.ledger import Batch, Claimed, Result
from newsletter.delivery.retry import RetryPolicy
from newsletter.delivery.smtp import Envelope, Outcome, RelayError, SmtpConnection
from newsletter.delivery.smtp import Result as Smtp
from newsletter.delivery.throttle import Throttle
from newsletter.models import (
    ConsentEvent,
    ConsentKind,
    DeliveryState,
    Region,
    Subscriber,
    SubscriberStatus,
    db,
    subscriber_regions,
    utcnow,
)

log = logging.getLogger("newsletter.delivery")


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
    lease_seconds: float
    retry: RetryPolicy
    secret: bytes
    domain: str
    hard_bounces: int
    pause_after_rejects: int
    relay_streak: list[int] = field(default_factory=list)
    relay_reply: str = ""


@dataclass
class BatchReport:
    counts: dict[str, int] = field(default_factory=dict)
    stopped: str | None = None  # why the batch stopped early: paused, lease lost, relay
    clock: Clock = field(default_factory=Clock)


def message_id(delivery_id: int, digest_id: int, *, secret: bytes, domain: str) -> str:
    """Deterministic: the same row always carries the same Message-ID (relay logs, DSNs)."""
    mac = hmac.new(secret, f"{delivery_id}.{digest_id}".encode(), hashlib.sha256).hexdigest()[:8]
    return f"<d{delivery_id}.{digest_id}.{mac}@{domain}>"


def sender_domain(mail_from: str) -> str:
    return parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"


def load_readers(ids: Sequence[int]) -> dict[int, Reader]:
    """The batch's readers and their regions (menu order), in two queries."""
    if not ids:
        return {}
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
    size = max(1, stream.group_size)
    renewed = time.monotonic()  # the claim just set the lease
    for position, group in enumerate(_groups(todo, size)):
        envelopes = []
        mids: dict[int, str] = {}
        for row, reader, body in group:
            mid = message_id(row.id, batch.digest_id, secret=stream.secret, domain=stream.domain)
            data = composer.message_for(
                body, email=reader.email, name=reader.name, subscriber_id=reader.id, message_id=mid
            )
            envelopes.append(Envelope(row.id, reader.email, data))
            mids[row.id] = mid
        clock.lap("build")
        stream.throttle.acquire(len(envelopes))
        clock._mark = time.thread_time()  # waiting is not work
        # Renew the batch's lease once a third of it is gone, not at every group.
        renew = time.monotonic() - renewed > stream.lease_seconds / 3
        ours = ledger.hand_over(
            batch,
            [e.key for e in envelopes],
            lease_seconds=stream.lease_seconds,
            renew=renew,
            conn=conn,
        )
        renewed = time.monotonic() if renew else renewed
        clock.lap("database")
        if len(ours) < len(envelopes):
            # Paused, cancelled, or our lease ran out: send none of what is not ours, stop.
            envelopes = [e for e in envelopes if e.key in ours]
            report.stopped = "digest no longer sending or lease lost"
        handed = time.perf_counter()
        try:
            outcomes = stream.connection.send_group(envelopes) if envelopes else []
        except RelayError as exc:
            clock.lap("smtp")
            report.stopped = _relay_down(batch, [e.key for e in envelopes], exc)
            ledger.release(
                batch, [row.id for row, _, _ in todo[(position + 1) * size :]], conn=conn
            )
            return report
        clock.lap("smtp")
        if envelopes:
            metrics.observe_send(time.perf_counter() - handed, len(envelopes))
        rows = {row.id: row for row, _, _ in group}
        results = [_result(o, rows[o.key], mids.get(o.key), stream.retry) for o in outcomes]
        ledger.record(batch, results, conn=fast)
        _bounce(results, {row.id: reader.id for row, reader, _ in group}, stream)
        clock.lap("database")
        _count(report, results)
        if report.stopped is None and _relay_refuses(batch, outcomes, stream):
            report.stopped = f"relay refused {stream.pause_after_rejects} readers in a row"
        if report.stopped:
            ledger.release(
                batch, [row.id for row, _, _ in todo[(position + 1) * size :]], conn=conn
            )
            return report
    return report


def _groups(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _count(report: BatchReport, results: Sequence[Result]) -> None:
    for r in results:
        report.counts[r.state.value] = report.counts.get(r.state.value, 0) + 1


def _result(outcome: Outcome, row: Claimed, mid: str | None, retry: RetryPolicy) -> Result:
    """SMTP outcome -> ledger state (the table in docs/delivery.md)."""
    reply = f"{outcome.code} {outcome.reply}".strip()
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


def _relay_refuses(batch: Batch, outcomes: Sequence[Outcome], stream: Stream) -> bool:
    """Count relay refusals in a row; at the threshold pause the digest and reopen their rows."""
    for o in outcomes:
        if o.result is Smtp.PERMANENT and is_relay_refusal(o.code, o.reply):
            stream.relay_streak.append(o.key)
            stream.relay_reply = f"{o.code} {o.reply}"
        elif o.result is not Smtp.TEMPORARY:
            stream.relay_streak.clear()
    if not stream.pause_after_rejects or len(stream.relay_streak) < stream.pause_after_rejects:
        return False
    reason = (
        f"the relay refused {len(stream.relay_streak)} readers in a row "
        f"({stream.relay_reply}); fix the relay settings, then resume"
    )
    from newsletter.delivery.control import pause

    pause(batch.digest_id, reason=reason)
    ledger.reopen(stream.relay_streak)
    stream.relay_streak.clear()
    return True


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
    """5xx to a reader (not a relay refusal): one more hard bounce; bounced at the limit."""
    ids = [
        readers[r.delivery_id]
        for r in results
        if r.state is DeliveryState.FAILED and not is_relay_refusal(r.code or 0, _text(r.reply))
    ]
    if not ids:
        return
    s = Subscriber.__table__
    db.session.execute(s.update().where(s.c.id.in_(ids)).values(hard_bounces=s.c.hard_bounces + 1))
    bounced = (
        db.session.execute(
            s.update()
            .where(
                s.c.id.in_(ids),
                s.c.hard_bounces >= max(1, stream.hard_bounces),
                s.c.status == SubscriberStatus.CONFIRMED.value,
            )
            .values(status=SubscriberStatus.BOUNCED.value, updated_at=utcnow())
            .returning(s.c.id)
        )
        .scalars()
        .all()
    )
    for subscriber_id in bounced:
        db.session.add(
            ConsentEvent(subscriber_id=subscriber_id, kind=ConsentKind.BOUNCE, source="delivery")
        )
    db.session.commit()


def _text(reply: str | None) -> str:
    # Our stored reply is "<code> <text>": the relay test looks at the text.
    return (reply or "").split(" ", 1)[-1]
