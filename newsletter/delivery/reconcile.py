"""The reconciler: expired leases, stale deferrals, lost tasks, finished digests. Idempotent.

Runs every minute (beat) and at worker start. Correctness never depends on it running at a
given time; it only restores progress after a crash or a lost task (Redis restart, purge).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from newsletter import jobs
from newsletter.delivery import ledger, liveness
from newsletter.delivery.control import enqueue_drains
from newsletter.models import (
    Delivery,
    DeliveryState,
    Digest,
    DigestStatus,
    db,
    in_digests,
    utcnow,
)
from newsletter.models.base import execute_dml

log = logging.getLogger("newsletter.delivery")
deliveries = Delivery.__table__

# Rows being sent or deferred belong to digests in these statuses (a cancelled digest may
# still have rows on the wire). Through them, each query below is one probe per digest into
# the claim index, never a scan of every digest's rows.
UNFINISHED = (DigestStatus.SENDING, DigestStatus.PAUSED, DigestStatus.CANCELLED)


@dataclass(frozen=True)
class ReconcileReport:
    reclaimed: int
    uncertain: int
    expired: int
    drains: int
    finished: int
    replanned: int


def reconcile(*, now: datetime | None = None) -> ReconcileReport:
    now = now or utcnow()
    config = current_app.config
    expired_lease = sa.and_(
        in_digests(*UNFINISHED),
        deliveries.c.state == DeliveryState.SENDING.value,
        deliveries.c.lease_expires_at < now,
    )
    # A lease ran out before the handoff: provably not sent, claim it again.
    reclaimed = execute_dml(
        deliveries.update()
        .where(expired_lease, deliveries.c.handoff_at.is_(None))
        .values(state=DeliveryState.PENDING.value, lease_token=None, lease_expires_at=None)
    ).rowcount
    # After the handoff: it may have reached the server. Never re-sent automatically.
    uncertain = execute_dml(
        deliveries.update()
        .where(expired_lease, deliveries.c.handoff_at.is_not(None))
        .values(
            state=DeliveryState.UNCERTAIN.value,
            lease_token=None,
            lease_expires_at=None,
            finished_at=now,
            smtp_reply="worker lost between handoff and reply",
        )
    ).rowcount
    max_age = timedelta(hours=config["SEND_MAX_AGE_HOURS"])
    expired = execute_dml(
        deliveries.update()
        .where(
            in_digests(*UNFINISHED),
            deliveries.c.state == DeliveryState.DEFERRED.value,
            deliveries.c.created_at < now - max_age,
        )
        .values(state=DeliveryState.EXPIRED.value, finished_at=now)
    ).rowcount
    db.session.commit()

    drains = finished = replanned = 0
    sending = (
        db.session.execute(sa.select(Digest.id).where(Digest.status == DigestStatus.SENDING))
        .scalars()
        .all()
    )
    ttl = config["SEND_WORKER_TTL_SECONDS"]
    for digest_id in sending:
        wanted = config["SEND_PARALLEL"] - _active_leases(digest_id, now, ttl)
        if wanted > 0 and _has_due_rows(digest_id, now):
            enqueue_drains(digest_id, wanted)
            drains += wanted
        db.session.commit()
        finished += ledger.finish_if_done(digest_id, now=now)
    # A plan task lost before it ran: plan is idempotent, send it again.
    stale = (
        db.session.execute(
            sa.select(Digest.id).where(
                Digest.status == DigestStatus.PLANNED,
                Digest.created_at < now - timedelta(minutes=1),
            )
        )
        .scalars()
        .all()
    )
    for digest_id in stale:
        jobs.enqueue("delivery.plan", digest_id)
        replanned += 1
    liveness.forget_stale(now, older_than=config["SEND_LEASE_SECONDS"] + ttl)
    db.session.commit()
    report = ReconcileReport(reclaimed, uncertain, expired, drains, finished, replanned)
    if any(vars(report).values()):
        log.info("delivery.reconciled %s", report)
    return report


def _active_leases(digest_id: int, now: datetime, ttl: float) -> int:
    """Drains at work on this digest: one token per claimed batch with a live lease, held by
    a process whose heartbeat is recent (or by one without identity, run outside a worker).
    A killed process's leases stop counting within the TTL: its slot is not held hostage."""
    return int(
        db.session.execute(
            sa.select(sa.func.count(sa.distinct(deliveries.c.lease_token))).where(
                deliveries.c.digest_id == digest_id,
                deliveries.c.state == DeliveryState.SENDING.value,
                deliveries.c.lease_expires_at >= now,
                sa.or_(
                    deliveries.c.lease_owner.is_(None),
                    deliveries.c.lease_owner.in_(liveness.alive(now, ttl)),
                ),
            )
        ).scalar_one()
    )


def _has_due_rows(digest_id: int, now: datetime) -> bool:
    due = ledger.next_due(digest_id)
    return due is not None and due <= now
