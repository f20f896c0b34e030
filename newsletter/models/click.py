"""Click counts: one anonymous counter per (edition, article, section of the letter)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.models.base import Model


class ClickCount(Model):
    """How many times an article's link was followed from one section of one edition.

    Deliberately nothing else: no reader, address, agent or time (docs/clicks.md). No foreign
    key to articles either: the figures of an edition outlive an article removed since.
    """

    __tablename__ = "click_counts"

    digest_id: Mapped[int] = mapped_column(
        sa.ForeignKey("digests.id", ondelete="CASCADE"), primary_key=True
    )
    article_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # A region's slug, or "top" for the pinned article (clicks/refs.py).
    section: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    clicks: Mapped[int] = mapped_column(default=0)
