"""What the ledger says about a digest: counts by state, the next due row, its status now."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from newsletter.ledger.rows import CLAIMABLE, deliveries, digests, values
from newsletter.models import DeliveryState, DigestStatus, db


def digest_progress(digest_id: int) -> dict[str, int]:
    """Counts by state, from the rows (every state present, zero when none)."""
    counts = {state.value: 0 for state in DeliveryState}
    rows = db.session.execute(
        sa.select(deliveries.c.state, sa.func.count())
        .where(deliveries.c.digest_id == digest_id)
        .group_by(deliveries.c.state)
    ).all()
    for state, count in rows:
        counts[str(getattr(state, "value", state))] = int(count)
    return counts


def next_due(digest_id: int) -> datetime | None:
    """When the earliest pending or deferred row of a digest becomes claimable."""
    return db.session.execute(
        sa.select(sa.func.min(deliveries.c.next_attempt_at)).where(
            deliveries.c.digest_id == digest_id,
            deliveries.c.state.in_(values(CLAIMABLE)),
        )
    ).scalar_one_or_none()


def digest_state(digest_id: int) -> tuple[DigestStatus | None, str | None]:
    """The digest's status and pause reason as committed now (a read of its own, no session)."""
    with db.engine.connect() as conn:
        row = conn.execute(
            sa.select(digests.c.status, digests.c.pause_reason).where(digests.c.id == digest_id)
        ).first()
    if row is None:
        return None, None
    return DigestStatus(row.status), row.pause_reason
