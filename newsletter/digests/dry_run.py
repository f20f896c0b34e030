"""A dry run: how many readers would get how many articles, before anything is stored."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa

from newsletter.digests.assemble import Window, assemble, load_window, menu_order
from newsletter.models import (
    Digest,
    Region,
    Subscriber,
    SubscriberStatus,
    db,
    subscriber_regions,
)


@dataclass(frozen=True)
class DryRunRow:
    regions: tuple[str, ...]
    readers: int
    articles: int


def dry_run(digest: Digest) -> list[DryRunRow]:
    """Per region combination of today's confirmed, unpaused readers: how many get how many.

    `digest` need not be stored: this reads the window and the readers and writes nothing.
    """
    window = load_window(digest)
    combos = _reader_combinations(window)
    rows = []
    for regions, readers in combos.items():
        sections = assemble(window, regions)
        count = sum(len(s.articles) for s in sections)
        if window.pinned_for(regions):
            count += 1
        rows.append(DryRunRow(regions=regions, readers=readers, articles=count))
    return sorted(rows, key=lambda r: (-r.readers, r.regions))


def _reader_combinations(window: Window) -> Counter[tuple[str, ...]]:
    """How many readers hold each set of regions, counted by the database.

    Each reader's set is a bit mask (one bit per region position, summed over the reader's
    distinct regions), so the database returns one row per set (at most 127) instead of one
    per (reader, region): 100,000 readers took 1.6 s streamed to Python, see BENCHMARKS.md.
    """
    bit = sa.literal(1, sa.BigInteger).op("<<")(Region.position)
    masks = (
        sa.select(sa.func.sum(bit).label("mask"))
        .select_from(subscriber_regions)
        .join(Region, Region.id == subscriber_regions.c.region_id)
        .join(Subscriber, Subscriber.id == subscriber_regions.c.subscriber_id)
        .where(Subscriber.status == SubscriberStatus.CONFIRMED, Subscriber.paused.is_(False))
        .group_by(subscriber_regions.c.subscriber_id)
        .subquery()
    )
    counted = db.session.execute(
        sa.select(masks.c.mask, sa.func.count()).group_by(masks.c.mask)
    ).all()
    slug_at = dict(db.session.execute(sa.select(Region.position, Region.slug)).all())
    combos: Counter[tuple[str, ...]] = Counter()
    for mask, readers in counted:
        slugs = [slug for position, slug in slug_at.items() if int(mask) >> position & 1]
        combos[menu_order(window, slugs)] += readers
    return combos
