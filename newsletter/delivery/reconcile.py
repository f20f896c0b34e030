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

from newsletter import jobs, ledger
from newsletter.delivery import liveness
from newsletter.delivery.control import enqueue_drains
from newsletter.models import (
    Delivery,
    DeliveryState,
    Digest,
    DigestStatus,
    db,
    utcnow,
)

log = logging.getLogger("newsletter.delivery")
deliveries = Delivery.__table__


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
    # A dead worker's rows: given back if never handed over, else uncertain (never re-sent).
    recovered = ledger.reclaim(now=now)
    max_age = timedelta(hours=config["SEND_MAX_AGE_HOURS"])
    expired = ledger.expire_deferred(now=now, max_age=max_age)
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
                # A scheduled edition's plan task is sent when it is released, not made.
                sa.or_(
                    sa.and_(
                        Digest.send_at.is_(None), Digest.created_at < now - timedelta(minutes=1)
                    ),
                    Digest.planned_at < now - timedelta(minutes=1),
                ),
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
    report = ReconcileReport(
        recovered.pending, recovered.uncertain, expired, drains, finished, replanned
    )
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
