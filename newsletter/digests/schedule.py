"""Scheduled special editions: released when their time comes, through the same plan task as
an edition sent at once. Beat runs this every minute; two beats or two workers release an
edition once (a conditional UPDATE in the ledger, not a read then a write)."""

from __future__ import annotations

from datetime import datetime

from newsletter import jobs, ledger
from newsletter.models import Digest, DigestStatus, db, utcnow


def start_due(*, now: datetime | None = None) -> list[int]:
    """Release every scheduled edition due by `now`; returns the ids this call released."""
    now = now or utcnow()
    due = (
        db.session.execute(
            db.select(Digest.id)
            .where(
                Digest.status == DigestStatus.PLANNED,
                Digest.send_at <= now,
                Digest.planned_at.is_(None),
            )
            .order_by(Digest.send_at, Digest.id)
        )
        .scalars()
        .all()
    )
    db.session.commit()  # no read snapshot held across the writes below
    released = []
    for digest_id in due:
        if ledger.release_scheduled(digest_id, now=now):
            # Leaves with this commit, as for "send now" (editions._create).
            jobs.enqueue("delivery.plan", digest_id)
            released.append(digest_id)
        db.session.commit()
    return released
