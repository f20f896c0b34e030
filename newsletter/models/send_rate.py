"""Adaptive send rates: the rate the relay or a domain allows now, and its history per edition."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.models.base import Model


class SendRate(Model):
    """The rate a key ("relay" or "domain:<d>") was cut to at its last throttle reply.

    Without Redis, the state every worker shares (delivery/adaptive.py); the rate now is this
    one plus the additive step for each interval since `throttled_at`. A key with no row is
    not throttled.
    """

    __tablename__ = "send_rates"

    key: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    rate: Mapped[float] = mapped_column(sa.Float)
    throttled_at: Mapped[datetime]


class SendRateSample(Model):
    """One minute of one edition's sending to one throttled key: the rate and the replies."""

    __tablename__ = "send_rate_samples"

    digest_id: Mapped[int] = mapped_column(
        sa.ForeignKey("digests.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    minute: Mapped[datetime] = mapped_column(primary_key=True)
    rate: Mapped[float] = mapped_column(sa.Float)  # the lowest rate allowed during the minute
    sent: Mapped[int] = mapped_column(default=0)  # handed to the relay and accepted
    throttled: Mapped[int] = mapped_column(default=0)  # throttle replies
