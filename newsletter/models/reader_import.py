"""An admin's import of readers from a CSV file, run by a worker, with its report."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from newsletter.models.base import Model, str_enum, utcnow
from newsletter.models.editor import Editor


class ReaderImportState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ReaderImport(Model):
    __tablename__ = "reader_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    encoding: Mapped[str] = mapped_column(sa.String(40))
    # What the admin asserted for every person in the file: recorded with each consent event.
    consent_note: Mapped[str] = mapped_column(sa.String(500))
    # The upload, kept until the worker has read it (at most READER_IMPORT_MAX_BYTES).
    content: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    state: Mapped[ReaderImportState] = mapped_column(
        str_enum(ReaderImportState, "reader_import_state"), default=ReaderImportState.QUEUED
    )
    lines_total: Mapped[int] = mapped_column(default=0)
    lines_read: Mapped[int] = mapped_column(default=0)
    added: Mapped[int] = mapped_column(default=0)
    already_known: Mapped[int] = mapped_column(default=0)
    suppressed: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)  # every rejected row, suppressed included
    error: Mapped[str | None] = mapped_column(sa.Text)
    editor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("editors.id", ondelete="SET NULL"))
    editor_email: Mapped[str | None] = mapped_column(sa.String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    editor: Mapped[Editor | None] = relationship()

    @property
    def ended(self) -> bool:
        return self.state in (ReaderImportState.DONE, ReaderImportState.FAILED)

    def __repr__(self) -> str:
        return f"<ReaderImport {self.id} {self.state.value}>"


class ReaderImportRejection(Model):
    """One rejected row of an import: its line in the file, the address as read, and why.

    A row is rejected once at most, so (import, line) is the natural key."""

    __tablename__ = "reader_import_rejections"

    import_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reader_imports.id", ondelete="CASCADE"), primary_key=True
    )
    line: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(400))
    reason: Mapped[str] = mapped_column(sa.String(500))
