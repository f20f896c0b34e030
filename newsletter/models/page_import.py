"""An editor's page import, done by a worker: what was asked, and how it ended."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from newsletter.models.article import Article
from newsletter.models.base import Model, str_enum, utcnow


class ImportState(enum.StrEnum):
    QUEUED = "queued"
    DONE = "done"
    FAILED = "failed"


class PageImport(Model):
    __tablename__ = "page_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The page's URL, or the uploaded file's name (then `content` holds the file).
    source: Mapped[str] = mapped_column(sa.String(2000))
    uploaded: Mapped[bool] = mapped_column(default=False)
    # An upload, kept until the worker has read it (at most FEED_MAX_BYTES), then dropped.
    content: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    state: Mapped[ImportState] = mapped_column(
        str_enum(ImportState, "import_state"), default=ImportState.QUEUED
    )
    outcome: Mapped[str | None] = mapped_column(sa.String(20))  # created, updated, unchanged
    article_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="SET NULL")
    )
    error: Mapped[str | None] = mapped_column(sa.Text)
    editor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("editors.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None]

    article: Mapped[Article | None] = relationship()

    def __repr__(self) -> str:
        return f"<PageImport {self.id} {self.state.value}>"
