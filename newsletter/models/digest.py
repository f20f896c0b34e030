"""Digests: one edition of the newsletter, weekly or special."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.models.base import Model, str_enum, utcnow


class DigestKind(enum.StrEnum):
    WEEKLY = "weekly"
    SPECIAL = "special"


class DigestStatus(enum.StrEnum):
    PLANNED = "planned"
    SENDING = "sending"
    PAUSED = "paused"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class Digest(Model):
    __tablename__ = "digests"
    __table_args__ = (sa.Index("ix_digests_kind_window_end", "kind", "window_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # weekly-2026-W48, special-2026-11-27-1...: two beats or a double click make one digest.
    edition_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    kind: Mapped[DigestKind] = mapped_column(str_enum(DigestKind, "digest_kind"))
    status: Mapped[DigestStatus] = mapped_column(
        str_enum(DigestStatus, "digest_status"), default=DigestStatus.PLANNED, index=True
    )
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    # None: every region; otherwise the slugs this edition is limited to.
    region_slugs: Mapped[list[str] | None] = mapped_column(sa.JSON)
    intro: Mapped[str | None] = mapped_column(sa.Text)
    pinned_article_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="SET NULL")
    )
    created_by: Mapped[str | None] = mapped_column(sa.String(320))
    # Editors may keep an edition out of the public archive (its pages and its feed).
    archive_hidden: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    pause_reason: Mapped[str | None] = mapped_column(sa.Text)
    # Counted from the deliveries when planned; live progress is counted from the rows.
    planned_count: Mapped[int] = mapped_column(default=0)
    # None: leaves when created; otherwise a special edition waits until this time (UTC).
    send_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    planned_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # A finished edition's figures, counted once by the ledger as it finishes it
    # (ledger/tally.py): the pages that list editions read them instead of every letter.
    tally: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))

    def __repr__(self) -> str:
        return f"<Digest {self.edition_key} {self.status}>"
