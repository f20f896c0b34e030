"""The delivery ledger: one row per (digest, reader), the fact of who got what."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.models.base import Model, str_enum, utcnow
from newsletter.models.digest import Digest, DigestStatus


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEFERRED = "deferred"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNCERTAIN = "uncertain"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


# A digest is finished when none of its rows is in one of these.
OPEN_STATES = (DeliveryState.PENDING, DeliveryState.SENDING, DeliveryState.DEFERRED)


class Delivery(Model):
    __tablename__ = "deliveries"
    __table_args__ = (
        sa.UniqueConstraint("digest_id", "subscriber_id"),
        # Every query on rows goes through one digest: the claim, progress, the reconciler
        # (leases that ran out, stale deferrals), cancelling. Readers' rows are found through
        # the unique key, one probe per digest. No other index: each one is written again at
        # every change of state, for a million rows per digest; and a partial index on rows
        # being sent filled with the dead versions of every row sent since the last vacuum,
        # which PostgreSQL then scanned whole at each handoff.
        sa.Index("ix_deliveries_claim", "digest_id", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    # No foreign key either: checked row by row, it was the other half of planning a million
    # readers (15-18 s with it, 8 s without), and it guards nothing the service does: a plan
    # inserts under its digest's row lock, and digests are the record, never deleted.
    digest_id: Mapped[int]
    # NULL once the reader is erased: the row stays as a count, without the person.
    # No foreign key: its per-row check was half the time of planning a million rows, and a
    # reader deleted while a digest is planned would fail the whole plan. Whoever deletes a
    # subscriber nulls this (ledger.forget_readers); a row whose reader is gone is skipped.
    subscriber_id: Mapped[int | None]
    state: Mapped[DeliveryState] = mapped_column(
        str_enum(DeliveryState, "delivery_state"), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_token: Mapped[str | None] = mapped_column(sa.String(32))
    lease_expires_at: Mapped[datetime | None]
    # The worker process that claimed the row (DeliveryWorker.id); meaningful while `sending`.
    lease_owner: Mapped[str | None] = mapped_column(sa.String(32))
    # Set just before DATA: from here on a lost reply makes the row uncertain, never re-sent.
    handoff_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(sa.String(200))
    smtp_code: Mapped[int | None] = mapped_column(sa.SmallInteger)
    smtp_reply: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # The sections the letter had, recorded with `sent` (clicks/sections.py): bit 0 the pinned
    # story, bit n the region whose id is n. What clicks per 1,000 of a section divide by.
    sections: Mapped[int | None] = mapped_column(sa.BigInteger)

    def __repr__(self) -> str:
        return f"<Delivery {self.digest_id}:{self.subscriber_id} {self.state}>"


class DeliveryWorker(Model):
    """A worker process that sends: its leases name it, its heartbeat says it is alive."""

    __tablename__ = "delivery_workers"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    # Celery's node name ("w1@host"): unique among running workers, kept across a restart.
    node: Mapped[str] = mapped_column(sa.String(200))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


def in_digests(*statuses: DigestStatus) -> sa.ColumnElement[bool]:
    """Rows of the digests in these statuses (all without): one probe per digest into the
    unique (digest_id, subscriber_id) or the claim index instead of a scan of every row."""
    ids = sa.select(Digest.id)
    if statuses:
        ids = ids.where(Digest.status.in_(statuses))
    return Delivery.digest_id.in_(ids.scalar_subquery())


class BounceEvent(Model):
    """A bounce or complaint report, applied once: its key makes the same report twice a no-op."""

    __tablename__ = "bounce_events"

    # SHA-256 of the report's Message-ID and recipient, or of the provider's event id.
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    subscriber_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("subscribers.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str | None] = mapped_column(sa.String(20))
    source: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
