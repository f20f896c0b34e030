"""What editors see of a digest: its edition, window and delivery counts; and dry runs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from newsletter.delivery import digest_progress
from newsletter.digests.assemble import Window, assemble, load_window, menu_order
from newsletter.models import (
    Delivery,
    DeliveryState,
    Digest,
    Region,
    Subscriber,
    SubscriberStatus,
    db,
    subscriber_regions,
)

# The states an editor follows; the ledger's other states are counted in "other".
REPORTED = ("pending", "sent", "skipped", "failed", "bounced", "uncertain")


def digest_report(digest_id: int) -> dict[str, Any] | None:
    digest = db.session.get(Digest, digest_id)
    if digest is None:
        return None
    progress = digest_progress(digest_id)
    counts = {"planned": digest.planned_count}
    counts["pending"] = sum(progress.get(s, 0) for s in ("pending", "sending", "deferred"))
    counts["sent"] = progress.get("sent", 0)
    counts["skipped"] = progress.get("skipped", 0)
    counts["failed"] = progress.get("failed", 0)
    counts["bounced"] = _bounced(digest_id)
    # Handed to the relay, reply lost: an editor settles them (relay's log) or sends again.
    counts["uncertain"] = progress.get("uncertain", 0)
    counts["other"] = sum(progress.values()) - sum(
        counts[k] for k in ("pending", "sent", "skipped", "failed", "uncertain")
    )
    return {
        "id": digest.id,
        "edition_key": digest.edition_key,
        "kind": digest.kind.value,
        "status": digest.status.value,
        "window": {"since": _iso(digest.window_start), "until": _iso(digest.window_end)},
        "regions": digest.region_slugs,
        "intro": digest.intro,
        "pinned_article_id": digest.pinned_article_id,
        "created_by": digest.created_by,
        "created_at": _iso(digest.created_at),
        "planned_at": _iso(digest.planned_at),
        "finished_at": _iso(digest.finished_at),
        "counts": counts,
    }


def _bounced(digest_id: int) -> int:
    """Failed with a permanent (5xx) reply from the relay for that reader."""
    return db.session.execute(
        db.select(db.func.count())
        .select_from(Delivery)
        .where(
            Delivery.digest_id == digest_id,
            Delivery.state == DeliveryState.FAILED,
            Delivery.smtp_code >= 500,
        )
    ).scalar_one()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


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
