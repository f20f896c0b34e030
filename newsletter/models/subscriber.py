"""Readers, the regions they chose, the proof of their consent, and the suppression list."""

from __future__ import annotations

import enum
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from newsletter.models.base import Model, db, str_enum, utcnow
from newsletter.models.region import Region


class SubscriberStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


class ConsentKind(enum.StrEnum):
    SUBSCRIBE = "subscribe"
    CONFIRM = "confirm"
    CHANGE = "change"
    PAUSE = "pause"
    RESUME = "resume"
    UNSUBSCRIBE = "unsubscribe"
    ERASE = "erase"
    IMPORT = "import"
    BOUNCE = "bounce"
    COMPLAINT = "complaint"


class SuppressionReason(enum.StrEnum):
    ERASED = "erased"
    HARD_BOUNCE = "hard-bounce"
    COMPLAINT = "complaint"
    MANUAL = "manual"


def new_nonce() -> str:
    return secrets.token_urlsafe(12)


subscriber_regions = sa.Table(
    "subscriber_regions",
    db.metadata,
    sa.Column(
        "subscriber_id", sa.ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("region_id", sa.ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True),
    sa.Index("ix_subscriber_regions_region_id", "region_id"),
)


def region_slugs_of(subscriber_ids: Sequence[int]) -> dict[int, list[str]]:
    """Each reader's region slugs in menu order, in one query (readers without any: absent)."""
    found: dict[int, list[str]] = {}
    for subscriber_id, slug in db.session.execute(
        sa.select(subscriber_regions.c.subscriber_id, Region.slug)
        .join(Region, Region.id == subscriber_regions.c.region_id)
        .where(subscriber_regions.c.subscriber_id.in_(subscriber_ids))
        .order_by(subscriber_regions.c.subscriber_id, Region.position)
    ):
        found.setdefault(subscriber_id, []).append(slug)
    return found


class Subscriber(Model):
    __tablename__ = "subscribers"
    __table_args__ = (
        # Planning a digest selects confirmed readers in id order.
        sa.Index("ix_subscribers_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Normalized by email-validator (lower-cased domain, IDNA) before it is stored.
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    name: Mapped[str | None] = mapped_column(sa.String(100))
    language: Mapped[str] = mapped_column(sa.String(5), default="fr")
    status: Mapped[SubscriberStatus] = mapped_column(
        str_enum(SubscriberStatus, "subscriber_status"), default=SubscriberStatus.PENDING
    )
    paused: Mapped[bool] = mapped_column(default=False)
    # Rotated on every change of state, so a confirmation link works once.
    token_nonce: Mapped[str] = mapped_column(sa.String(32), default=new_nonce)
    hard_bounces: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    confirmation_sent_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]

    regions: Mapped[list[Region]] = relationship(
        secondary=subscriber_regions, order_by=Region.position, lazy="selectin"
    )

    @property
    def region_slugs(self) -> list[str]:
        return [region.slug for region in self.regions]

    def __repr__(self) -> str:
        return f"<Subscriber {self.id} {self.status}>"


class ConsentEvent(Model):
    """Append-only proof of opt-in and opt-out."""

    __tablename__ = "consent_events"
    # The leavers of recent editions are found by kind and time (clicks/figures.py).
    __table_args__ = (sa.Index("ix_consent_events_kind_at", "kind", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Kept (with the address gone) when a reader is erased: the proof outlives the record.
    subscriber_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("subscribers.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[ConsentKind] = mapped_column(str_enum(ConsentKind, "consent_kind"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(400))
    form_version: Mapped[str | None] = mapped_column(sa.String(64))
    source: Mapped[str | None] = mapped_column(sa.String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # The edition whose letter the reader left from (its unsubscribe link, a complaint about
    # it); None when the event came from elsewhere. Digests are never deleted: no key needed.
    digest_id: Mapped[int | None] = mapped_column(index=True)


class Suppression(Model):
    """Addresses that may never be added again, kept only as a keyed hash."""

    __tablename__ = "suppressions"

    email_hmac: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    reason: Mapped[SuppressionReason] = mapped_column(
        str_enum(SuppressionReason, "suppression_reason")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
