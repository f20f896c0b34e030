"""A dry run: how many readers would get how many articles, before anything is stored."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

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
    # One pass over (reader, region) pairs in reader order, streamed: no reader objects loaded.
    pairs = db.session.execute(
        db.select(subscriber_regions.c.subscriber_id, Region.slug)
        .join(Region, Region.id == subscriber_regions.c.region_id)
        .join(Subscriber, Subscriber.id == subscriber_regions.c.subscriber_id)
        .where(Subscriber.status == SubscriberStatus.CONFIRMED, Subscriber.paused.is_(False))
        .order_by(subscriber_regions.c.subscriber_id)
        .execution_options(yield_per=5000)
    )
    combos: Counter[tuple[str, ...]] = Counter()
    current: int | None = None
    slugs: list[str] = []
    for subscriber_id, slug in pairs:
        if subscriber_id != current:
            if current is not None:
                combos[menu_order(window, slugs)] += 1
            current, slugs = subscriber_id, []
        slugs.append(slug)
    if current is not None:
        combos[menu_order(window, slugs)] += 1
    return combos
