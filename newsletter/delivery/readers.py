"""The readers of a claimed batch, as they are at send time (an unsubscribe after planning
is honoured): address, name, language, regions, and whether they may still be mailed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from newsletter import ledger
from newsletter.models import Subscriber, SubscriberStatus, db
from newsletter.models.subscriber import region_slugs_of


@dataclass(frozen=True)
class Reader:
    id: int
    email: str
    name: str | None
    language: str
    sendable: bool
    region_slugs: tuple[str, ...]


def load_readers(ids: Sequence[int]) -> dict[int, Reader]:
    """The batch's readers and their regions (menu order), in two queries."""
    if not ids:
        return {}
    if db.session.get_bind().dialect.name == "postgresql":
        return _load_readers_pg(ids)
    s = Subscriber.__table__
    slugs = region_slugs_of(ids)
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
