"""Progress of a digest as editors see it: counts by state, rate, time left. From the rows.

Every view of a digest's sending (the CLI, `GET /api/v1/digests/ID`, `…/delivery`, the
editors' page) counts through `progress_of`, so they report the same numbers (`digest_report`
is the digest with those counts); and every loop that follows a sending (`digest send --wait`,
`digest status --watch`) is `follow`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from newsletter.ledger import digest_progress
from newsletter.models import OPEN_STATES, Delivery, DeliveryState, Digest, DigestStatus, db

OPEN = tuple(OPEN_STATES)
DONE = tuple(state for state in DeliveryState if state not in OPEN_STATES)
# A digest in one of these changes no more: following it stops there.
ENDED = (DigestStatus.FINISHED, DigestStatus.CANCELLED)
# The digest's summary (API, CLI, editors' page): these states by name, the rest in "other".
# "pending" is the ledger state: rows no worker has taken yet, as on `…/delivery`.
SUMMARY_STATES = (
    DeliveryState.PENDING,
    DeliveryState.SENT,
    DeliveryState.SKIPPED,
    DeliveryState.FAILED,
    DeliveryState.UNCERTAIN,
)


@dataclass(frozen=True)
class Progress:
    digest_id: int
    status: str
    pause_reason: str | None
    counts: dict[str, int]
    planned: int = 0
    # Failed with a permanent (5xx) reply from the relay for that reader: part of "failed".
    bounced: int = 0
    at: float = field(default_factory=time.monotonic)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        return sum(self.counts[s] for s in DONE)

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    def summary(self) -> dict[str, int]:
        """planned, pending, sent, skipped, failed, bounced, uncertain, other: as the API says."""
        counts = {"planned": self.planned}
        counts.update((state.value, self.counts[state]) for state in SUMMARY_STATES)
        counts["bounced"] = self.bounced
        counts["other"] = self.total - sum(self.counts[s] for s in SUMMARY_STATES)
        return counts

    def as_json(self, previous: Progress | None = None) -> dict[str, object]:
        rate = self.rate(previous)
        return {
            "digest_id": self.digest_id,
            "status": self.status,
            "pause_reason": self.pause_reason,
            "total": self.total,
            "done": self.done,
            "counts": self.counts,
            "messages_per_second": rate,
        }

    def rate(self, previous: Progress | None) -> float | None:
        if previous is None or self.at <= previous.at:
            return None
        sent = DeliveryState.SENT
        return (self.counts[sent] - previous.counts[sent]) / (self.at - previous.at)


def progress_of(digest: Digest) -> Progress:
    """The digest's counts as they are in this transaction."""
    return Progress(
        digest.id,
        digest.status.value,
        digest.pause_reason,
        digest_progress(digest.id),
        planned=digest.planned_count,
        bounced=_bounced(digest.id),
    )


def snapshot(digest_id: int) -> Progress | None:
    digest = db.session.get(Digest, digest_id)
    result = progress_of(digest) if digest is not None else None
    db.session.rollback()  # a fresh snapshot next time
    return result


def follow(
    digest_id: int,
    *,
    interval: float = 2.0,
    wait: Callable[[float], None] = time.sleep,
) -> Iterator[Progress]:
    """A snapshot now, then one every `interval` seconds until the digest is finished or
    cancelled (the last one yielded is that end). Nothing at all if there is no such digest.

    A paused digest is followed on: it may be resumed. Ctrl-C is the caller's to catch.
    """
    while (current := snapshot(digest_id)) is not None:
        yield current
        if current.ended:
            return
        wait(interval)


def progress_line(current: Progress, previous: Progress | None, *, width: int = 30) -> str:
    """[#####.....] 52% 5200/10000  sent 5100 deferred 12 …  340 msg/s  ~14 s left  sending"""
    total = current.total or 1
    filled = int(width * current.done / total)
    bar = "#" * filled + "." * (width - filled)
    counts = " ".join(f"{s} {n}" for s, n in current.counts.items() if n)
    rate = current.rate(previous)
    speed = ""
    if rate is not None:
        left = sum(current.counts[s] for s in OPEN)
        eta = f"  ~{left / rate:.0f} s left" if rate > 0 else ""
        speed = f"  {rate:.0f} msg/s{eta}"
    status = current.status + (f" ({current.pause_reason})" if current.pause_reason else "")
    return (
        f"[{bar}] {100 * current.done / total:3.0f}% {current.done}/{current.total}  "
        f"{counts}{speed}  {status}"
    )


def _bounced(digest_id: int) -> int:
    return db.session.execute(
        db.select(db.func.count())
        .select_from(Delivery)
        .where(
            Delivery.digest_id == digest_id,
            Delivery.state == DeliveryState.FAILED,
            Delivery.smtp_code >= 500,
        )
    ).scalar_one()


def digest_report(digest_id: int) -> dict[str, Any] | None:
    """The digest and its counts, the same numbers as `GET /api/v1/digests/ID/delivery`:
    "pending" is the ledger state (no worker has taken the row yet); rows being sent,
    deferred for a retry, expired or cancelled are in "other"; "bounced" is part of "failed";
    "uncertain": handed to the relay, reply lost (settled from the relay's log, or sent again).
    """
    digest = db.session.get(Digest, digest_id)
    if digest is None:
        return None
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
        "send_at": _iso(digest.send_at),
        "planned_at": _iso(digest.planned_at),
        "finished_at": _iso(digest.finished_at),
        "counts": progress_of(digest).summary(),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
