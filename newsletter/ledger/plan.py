"""C0, plan: a digest's audience frozen into one row per reader, and the digest sending."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from newsletter.ledger.rows import at, deliveries
from newsletter.models import (
    DeliveryState,
    Digest,
    DigestStatus,
    Subscriber,
    SubscriberStatus,
    db,
    subscriber_regions,
)
from newsletter.models.region import Region

_COLUMNS = ["digest_id", "subscriber_id", "state", "attempts", "next_attempt_at", "created_at"]


def plan(digest: Digest, *, regions_with_news: set[str] | None, now: datetime) -> int:
    """planned → sending, with a row per confirmed, unpaused reader confirmed before now.

    Readers none of whose regions has news are inserted as `skipped` in the same statement
    (None: we cannot tell, every row is pending and the sender decides). The caller holds the
    digest row FOR UPDATE, has seen it `planned`, and commits. Returns the digest's row count.
    """
    db.session.execute(_insert_rows(digest.id, _state_of(regions_with_news), now))
    count = db.session.execute(
        sa.select(sa.func.count())
        .select_from(deliveries)
        .where(deliveries.c.digest_id == digest.id)
    ).scalar_one()
    digest.status = DigestStatus.SENDING
    digest.planned_at = digest.planned_at or now
    digest.started_at = now
    digest.planned_count = int(count)
    return int(count)


def _state_of(regions_with_news: set[str] | None) -> sa.ColumnElement[str]:
    if regions_with_news is None:
        return sa.literal(DeliveryState.PENDING.value)
    s = Subscriber.__table__
    region_ids = sa.select(Region.id).where(Region.slug.in_(sorted(regions_with_news)))
    has_news = sa.exists().where(
        subscriber_regions.c.subscriber_id == s.c.id,
        subscriber_regions.c.region_id.in_(region_ids.scalar_subquery()),
    )
    return sa.case((has_news, DeliveryState.PENDING.value), else_=DeliveryState.SKIPPED.value)


def _insert_rows(digest_id: int, state: sa.ColumnElement[str], now: datetime) -> sa.Executable:
    s = Subscriber.__table__
    source = sa.select(sa.literal(digest_id), s.c.id, state, sa.literal(0), at(now), at(now)).where(
        s.c.status == SubscriberStatus.CONFIRMED.value,
        s.c.paused.is_(False),
        s.c.confirmed_at <= at(now),
    )
    if db.session.get_bind().dialect.name == "postgresql":
        # PostgreSQL: the digest row is locked and `planned`, so no row of this digest can
        # exist (an earlier attempt committed nothing, or the status would say so): a plain
        # INSERT is safe, and much cheaper than ON CONFLICT's speculative inserts.
        return sa.insert(deliveries).from_select(_COLUMNS, source)
    # SQLite cannot lock the digest row: two planners may race; the second adds nothing.
    return sqlite.insert(deliveries).from_select(_COLUMNS, source).on_conflict_do_nothing()
