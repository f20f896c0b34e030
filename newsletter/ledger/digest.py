"""A digest's delivery status: pause, resume, cancel, finish, send uncertain or failed rows again.

Each is one conditional UPDATE on the digest (two concurrent calls change it once) and, where
rows follow, one on its rows. They run in the caller's session; the caller commits, with the
drains or announcements that must leave only after that commit.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from newsletter.ledger import tally
from newsletter.ledger.rows import (
    CLAIMABLE,
    OPEN_DIGESTS,
    at,
    deliveries,
    digests,
    give_back,
    values,
    writing,
)
from newsletter.models import OPEN_STATES, DeliveryState, DigestStatus, db, utcnow
from newsletter.models.base import execute_dml


def _move(digest_id: int, sources: tuple[DigestStatus, ...], **changes: object) -> bool:
    changed = execute_dml(
        digests.update()
        .where(digests.c.id == digest_id, digests.c.status.in_(values(sources)))
        .values(**changes)
    ).rowcount
    return bool(changed)


def _unhanded(digest_id: int) -> sa.ColumnElement[bool]:
    return sa.and_(
        deliveries.c.digest_id == digest_id,
        deliveries.c.state == DeliveryState.SENDING.value,
        deliveries.c.handoff_at.is_(None),
    )


def release_scheduled(digest_id: int, *, now: datetime) -> bool:
    """A scheduled edition whose time has come: still planned, never released → released
    (planned_at set). True for the one caller that wins; it alone asks for the plan."""
    return bool(
        execute_dml(
            digests.update()
            .where(
                digests.c.id == digest_id,
                digests.c.status == DigestStatus.PLANNED.value,
                digests.c.send_at <= at(now),
                digests.c.planned_at.is_(None),
            )
            .values(planned_at=now)
        ).rowcount
    )


def release_early(digest_id: int, *, now: datetime) -> bool:
    """A scheduled edition an editor sends now, before its time: still planned, never
    released → released now, its articles' window ending now if it ran later. True for the
    one caller that wins (the beat's release_scheduled may race it); it alone asks for the plan."""
    return bool(
        execute_dml(
            digests.update()
            .where(
                digests.c.id == digest_id,
                digests.c.status == DigestStatus.PLANNED.value,
                digests.c.send_at.is_not(None),
                digests.c.planned_at.is_(None),
            )
            .values(
                planned_at=now,
                window_end=sa.case(
                    (digests.c.window_end > at(now), at(now)), else_=digests.c.window_end
                ),
            )
        ).rowcount
    )


def pause(digest_id: int, *, reason: str) -> bool:
    """sending → paused, with the reason shown to editors; every claimed row not yet handed
    over is given back. False when the digest was not sending."""
    if not _move(
        digest_id,
        (DigestStatus.SENDING,),
        status=DigestStatus.PAUSED.value,
        pause_reason=reason[:1000],
    ):
        return False
    db.session.execute(deliveries.update().where(_unhanded(digest_id)).values(give_back()))
    return True


def resume(digest_id: int) -> bool:
    """paused → sending: the claim takes the rows still pending or deferred; nothing re-sent."""
    return _move(
        digest_id, (DigestStatus.PAUSED,), status=DigestStatus.SENDING.value, pause_reason=None
    )


def cancel(digest_id: int) -> int | None:
    """Stop for good: every row not yet handed over becomes cancelled. Returns that count,
    None when the digest could not be cancelled (already finished or cancelled)."""
    now = utcnow()
    if not _move(digest_id, OPEN_DIGESTS, status=DigestStatus.CANCELLED.value, finished_at=now):
        return None
    waiting = sa.and_(
        deliveries.c.digest_id == digest_id, deliveries.c.state.in_(values(CLAIMABLE))
    )
    return execute_dml(
        deliveries.update()
        .where(sa.or_(waiting, _unhanded(digest_id)))
        .values(
            state=DeliveryState.CANCELLED.value,
            lease_token=None,
            lease_expires_at=None,
            lease_owner=None,
            finished_at=now,
        )
    ).rowcount


def finish_if_done(
    digest_id: int, *, now: datetime | None = None, conn: sa.Connection | None = None
) -> bool:
    """sending → finished when no row is pending, sending or deferred: decided by a count.
    Its own commit (on `conn` when given)."""
    now = now or utcnow()
    still_open = sa.exists().where(
        deliveries.c.digest_id == digest_id,
        deliveries.c.state.in_(values(OPEN_STATES)),
    )
    with writing(conn) as conn:
        result = conn.execute(
            digests.update()
            .where(
                digests.c.id == digest_id,
                digests.c.status == DigestStatus.SENDING.value,
                ~still_open,
            )
            .values(status=DigestStatus.FINISHED.value, finished_at=now)
        )
        if result.rowcount:
            tally.store(conn, digest_id)  # in the same commit, after the status (tally.py)
    return bool(result.rowcount)


def send_uncertain_again(digest_id: int) -> int:
    """Every uncertain row of the digest back to `pending`, and a finished digest sending
    again. A person's decision (delivery/uncertain.py). The caller holds the digest row and
    has checked it is sending, paused or finished. Returns the count."""
    return _send_again(digest_id, DeliveryState.UNCERTAIN, "uncertain; sent again by hand")


def send_failed_again(digest_id: int) -> int:
    """Every failed row (a 5xx for that reader) back to `pending`, as for uncertain rows: a
    person's decision once the cause is fixed (control.send_failed_again). The sender checks
    each reader again: one bounced or gone since is skipped, not mailed."""
    return _send_again(digest_id, DeliveryState.FAILED, "failed; sent again by hand")


def _send_again(digest_id: int, state: DeliveryState, reply: str) -> int:
    count = execute_dml(
        deliveries.update()
        .where(deliveries.c.digest_id == digest_id, deliveries.c.state == state.value)
        .values(
            state=DeliveryState.PENDING.value,
            handoff_at=None,
            finished_at=None,
            next_attempt_at=utcnow(),
            smtp_reply=reply,
        )
    ).rowcount
    if count:
        _move(
            digest_id,
            (DigestStatus.FINISHED,),
            status=DigestStatus.SENDING.value,
            finished_at=None,
            tally=None,
        )
    return int(count)


def settle_uncertain(ids: list[int], *, source: str) -> int:
    """Uncertain rows the relay's own log shows accepted become `sent` (at their handoff).
    Their editions' tallies are dropped: counted from the rows from then on (tally.py)."""
    if not ids:
        return 0
    settled = execute_dml(
        deliveries.update()
        .where(
            deliveries.c.id.in_(ids),
            deliveries.c.state == DeliveryState.UNCERTAIN.value,
        )
        .values(
            state=DeliveryState.SENT.value,
            sent_at=deliveries.c.handoff_at,
            smtp_reply=f"accepted, per the relay's log {source}"[:1000],
        )
    ).rowcount
    if settled:
        editions = sa.select(deliveries.c.digest_id).where(deliveries.c.id.in_(ids))
        execute_dml(
            digests.update()
            .where(digests.c.id.in_(editions.scalar_subquery()), digests.c.tally.is_not(None))
            .values(tally=None)
        )
    return int(settled)
