"""Why readers leave: counts per month and reason, and the free text some write, kept apart
from anything that names them."""

from __future__ import annotations

import enum
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.models.base import Model, str_enum


class LeaveReason(enum.StrEnum):
    TOO_MANY = "too-many"
    NOT_MY_REGIONS = "not-my-regions"
    NOT_INTERESTING = "not-interesting"
    OTHER = "other"


class LeaveReasonCount(Model):
    """How many readers gave a reason in a month. The month, not the moment: a time to the
    second would let anyone match an answer to an unsubscribe in the consent history."""

    __tablename__ = "leave_reason_counts"

    month: Mapped[date] = mapped_column(primary_key=True)  # the first day of the month
    reason: Mapped[LeaveReason] = mapped_column(
        str_enum(LeaveReason, "leave_reason"), primary_key=True
    )
    count: Mapped[int] = mapped_column(default=0)


class LeaveComment(Model):
    """What a leaving reader wrote, with the month and the reason only."""

    __tablename__ = "leave_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(index=True)
    reason: Mapped[LeaveReason] = mapped_column(str_enum(LeaveReason, "leave_reason"))
    comment: Mapped[str] = mapped_column(sa.Text)
