"""Progress of a digest as editors see it: counts by state, rate, time left. From the rows."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from newsletter.delivery.ledger import digest_progress
from newsletter.models import Digest, db

OPEN = ("pending", "sending", "deferred")
DONE = ("sent", "failed", "skipped", "uncertain", "expired", "cancelled")


@dataclass(frozen=True)
class Progress:
    digest_id: int
    status: str
    pause_reason: str | None
    counts: dict[str, int]
    at: float = field(default_factory=time.monotonic)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        return sum(self.counts[s] for s in DONE)

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
        return (self.counts["sent"] - previous.counts["sent"]) / (self.at - previous.at)


def snapshot(digest_id: int) -> Progress | None:
    digest = db.session.get(Digest, digest_id)
    if digest is None:
        db.session.rollback()
        return None
    result = Progress(
        digest_id, digest.status.value, digest.pause_reason, digest_progress(digest_id)
    )
    db.session.rollback()  # a fresh snapshot next time
    return result


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
