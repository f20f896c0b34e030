"""Pause, resume and cancel a digest: one conditional UPDATE each, drains enqueued after commit.

A pause flips the digest and gives back every claimed row not yet handed over. With Redis it
is also published to every worker (delivery/halt.py), whose SMTP thread checks before each
message: each worker completes the message it is writing and sends nothing more. Without
Redis, the senders' next handoff (C2), fenced on the digest still sending, stops them after at
most the groups they had handed over. Resume re-sends nothing: it only lets the claim take the
rows that are still pending or deferred.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from newsletter import jobs
from newsletter.delivery import halt
from newsletter.models import Delivery, DeliveryState, Digest, DigestStatus, db, utcnow
from newsletter.models.base import execute_dml

deliveries = Delivery.__table__
digests = Digest.__table__


class NotAllowed(Exception):
    """The digest is not in a state where this action applies; the message says why."""


def _unhanded(digest_id: int) -> sa.ColumnElement[bool]:
    return sa.and_(
        deliveries.c.digest_id == digest_id,
        deliveries.c.state == DeliveryState.SENDING.value,
        deliveries.c.handoff_at.is_(None),
    )


def _status(digest_id: int) -> DigestStatus | None:
    return db.session.execute(
        sa.select(Digest.status).where(Digest.id == digest_id)
    ).scalar_one_or_none()


def pause(digest_id: int, *, reason: str = "paused by an editor") -> None:
    """sending → paused, with the reason shown to editors."""
    changed = execute_dml(
        digests.update()
        .where(digests.c.id == digest_id, digests.c.status == DigestStatus.SENDING.value)
        .values(status=DigestStatus.PAUSED.value, pause_reason=reason[:1000])
    ).rowcount
    if not changed:
        status = _status(digest_id)
        db.session.rollback()
        if status is DigestStatus.PAUSED:
            return
        raise NotAllowed(f"digest {digest_id} is {status or 'unknown'}, not sending")
    db.session.execute(
        deliveries.update()
        .where(_unhanded(digest_id))
        .values(
            state=DeliveryState.PENDING.value,
            attempts=deliveries.c.attempts - 1,
            lease_token=None,
            lease_expires_at=None,
        )
    )
    db.session.commit()
    _announce(digest_id, halted=True)


def resume(digest_id: int) -> None:
    """paused → sending; drains are enqueued once that is committed."""
    changed = execute_dml(
        digests.update()
        .where(digests.c.id == digest_id, digests.c.status == DigestStatus.PAUSED.value)
        .values(status=DigestStatus.SENDING.value, pause_reason=None)
    ).rowcount
    if not changed:
        status = _status(digest_id)
        db.session.rollback()
        if status is DigestStatus.SENDING:
            return
        raise NotAllowed(f"digest {digest_id} is {status or 'unknown'}, not paused")
    enqueue_drains(digest_id, current_app.config["SEND_PARALLEL"])
    db.session.commit()
    _announce(digest_id, halted=False)


def cancel(digest_id: int) -> int:
    """Stop for good: every row not yet handed over becomes cancelled. Returns that count."""
    changed = execute_dml(
        digests.update()
        .where(
            digests.c.id == digest_id,
            digests.c.status.in_(
                [DigestStatus.PLANNED.value, DigestStatus.SENDING.value, DigestStatus.PAUSED.value]
            ),
        )
        .values(status=DigestStatus.CANCELLED.value, finished_at=utcnow())
    ).rowcount
    if not changed:
        status = _status(digest_id)
        db.session.rollback()
        raise NotAllowed(f"digest {digest_id} is {status or 'unknown'}; it cannot be cancelled")
    cancelled = execute_dml(
        deliveries.update()
        .where(
            sa.or_(
                sa.and_(
                    deliveries.c.digest_id == digest_id,
                    deliveries.c.state.in_(
                        [DeliveryState.PENDING.value, DeliveryState.DEFERRED.value]
                    ),
                ),
                _unhanded(digest_id),
            )
        )
        .values(
            state=DeliveryState.CANCELLED.value,
            lease_token=None,
            lease_expires_at=None,
            finished_at=utcnow(),
        )
    ).rowcount
    db.session.commit()
    _announce(digest_id, halted=True)
    return int(cancelled)


def _announce(digest_id: int, *, halted: bool) -> None:
    # Scoped to this database's digests (the password is left out of what is hashed).
    database = db.engine.url.render_as_string(hide_password=True)
    halt.announce(current_app.config["REDIS_URL"], database, digest_id, halted=halted)


def enqueue_drains(digest_id: int, count: int) -> None:
    """`count` drain tasks for a digest, sent when the current transaction commits."""
    for _ in range(max(0, count)):
        jobs.enqueue("delivery.drain", digest_id)
