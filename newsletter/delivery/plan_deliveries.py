"""plan_deliveries(digest_id): C0, the audience frozen in one transaction, then the drains.

Not to be confused with making the edition (digests/editions.py: create_weekly,
create_special), which creates the digest and then asks for this, once it is committed.
"""

from __future__ import annotations

import logging
import time

from flask import current_app

from newsletter import ledger
from newsletter.delivery.control import enqueue_drains
from newsletter.digests.assemble import load_window
from newsletter.models import Digest, DigestStatus, db, utcnow

log = logging.getLogger("newsletter.delivery")


def plan_deliveries(digest_id: int) -> int:
    """Create the digest's delivery rows and start sending; idempotent. Returns the row count.

    planned → sending in the same commit as the INSERT … SELECT: a second call (a redelivered
    task, the reconciler) finds the digest already sending and only enqueues drains again.
    """
    started = time.monotonic()
    digest = db.session.execute(
        db.select(Digest).where(Digest.id == digest_id).with_for_update()
    ).scalar_one_or_none()
    if digest is None:
        db.session.rollback()
        return 0
    if digest.status is DigestStatus.PLANNED and _waits(digest):
        # Scheduled and not yet released: digests.start_due asks again when it is due.
        db.session.rollback()
        return 0
    if digest.status is not DigestStatus.PLANNED:
        count = digest.planned_count
        if digest.status is DigestStatus.SENDING:
            enqueue_drains(digest_id, current_app.config["SEND_PARALLEL"])
        db.session.commit()
        return count
    count = ledger.plan(digest, regions_with_news=_regions_with_news(digest), now=utcnow())
    enqueue_drains(digest_id, current_app.config["SEND_PARALLEL"])
    db.session.commit()
    log.info(
        "delivery.planned digest=%s rows=%s seconds=%.2f",
        digest_id,
        count,
        time.monotonic() - started,
    )
    return count


def _waits(digest: Digest) -> bool:
    """A scheduled edition not released yet (release sets planned_at, at its time)."""
    return digest.send_at is not None and digest.planned_at is None


def _regions_with_news(digest: Digest) -> set[str] | None:
    """Regions with an article in the window; None: every row pending."""
    window = load_window(digest)
    with_news = window.region_slugs_with_news()
    if window.pinned is not None or with_news >= {r.slug for r in window.regions}:
        # Everyone may have news: no per-reader test in the INSERT (the sender still skips
        # a reader with nothing to read, e.g. one with no region).
        return None
    return with_news
