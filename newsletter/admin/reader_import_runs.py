"""Readers imported from the console: the upload kept in the database, run by a worker.

The web request checks the file as a whole (csvsource.inspect, as the command line does) and
records it; a worker runs the command line's importer on it (import_csv, as confirmed: the
admin asserted every person's prior consent) and keeps its report: the counts on the row,
each rejected row beside it. Web and worker may be different machines: the file travels in
the row, which drops it once read.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from newsletter import jobs
from newsletter.admin.audit import AuditAction, record
from newsletter.models import (
    Editor,
    ReaderImport,
    ReaderImportRejection,
    ReaderImportState,
    db,
    utcnow,
)
from newsletter.models.base import execute_dml
from newsletter.subscriptions.csvsource import ImportFileError, inspect
from newsletter.subscriptions.importer import SUPPRESSED, ImportReport, import_csv

TASK = "admin.import_readers"
# A worker killed mid-import leaves its row running; past the task's hard time limit no
# worker can still hold it, so a redelivered task may take it over.
TASK_TIME_LIMIT = 1800
PROGRESS_EVERY = 1000
MAX_ERROR_LENGTH = 2000
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


def clean_filename(name: str) -> str:
    """The upload's own name without folders or control characters: consent events cite it."""
    base = _UNSAFE_NAME.sub("_", name.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    return base[:200] if base.strip(".") else "import.csv"


@contextmanager
def as_file(filename: str, content: bytes) -> Iterator[Path]:
    """The content as a file under its own name: csvsource reads paths, and the importer
    records the file's name with each reader's consent."""
    with tempfile.TemporaryDirectory(prefix="reader-import-") as folder:
        path = Path(folder) / filename
        path.write_bytes(content)
        yield path


def queue_import(
    filename: str, content: bytes, *, encoding: str, consent_note: str, editor: Editor
) -> ReaderImport:
    """Check the file as a whole, record it, and hand it to a worker once this commits.

    Raises ImportFileError (nothing recorded) for a file the command line would refuse whole.
    """
    name = clean_filename(filename)
    with as_file(name, content) as path:
        source = inspect(path, encoding)
    row = ReaderImport(
        filename=name,
        encoding=source.codec,
        consent_note=consent_note[:500],
        content=content,
        lines_total=source.data_lines,
        editor_id=editor.id,
        editor_email=editor.email,
    )
    db.session.add(row)
    db.session.flush()
    jobs.enqueue(TASK, row.id)
    db.session.commit()
    return row


def run_import(import_id: int) -> ReaderImportState | None:
    """Run a queued import and keep its report; a second delivery of the task does nothing."""
    if not _claim(import_id):
        return None
    row = db.session.get(ReaderImport, import_id)
    assert row is not None  # claimed just now; rows are never deleted
    filename, content, encoding, note = row.filename, row.content, row.encoding, row.consent_note
    try:
        if content is None:
            raise ImportFileError("the uploaded file was not kept")
        with as_file(filename, content) as path:
            source = inspect(path, encoding)
            report = import_csv(
                source, confirmed=True, consent_note=note, on_progress=_Progress(import_id)
            )
    except ImportFileError as exc:
        return _fail(import_id, str(exc))
    except Exception as exc:
        # Unexpected (database...): the admin sees it failed, the worker's log says why.
        _fail(import_id, f"{exc.__class__.__name__}: {exc}")
        raise
    return _finish(import_id, report)


def _claim(import_id: int) -> bool:
    """Queued to running by a conditional UPDATE, not read-then-write: one worker wins."""
    now = utcnow()
    stale = now - timedelta(seconds=TASK_TIME_LIMIT)
    claimed = execute_dml(
        sa.update(ReaderImport)
        .where(
            ReaderImport.id == import_id,
            sa.or_(
                ReaderImport.state == ReaderImportState.QUEUED,
                sa.and_(
                    ReaderImport.state == ReaderImportState.RUNNING,
                    ReaderImport.started_at < stale,
                ),
            ),
        )
        .values(state=ReaderImportState.RUNNING, started_at=now, lines_read=0)
    ).rowcount
    db.session.commit()
    return bool(claimed)


class _Progress:
    """Lines read so far, written every PROGRESS_EVERY lines into the importer's transaction
    (each chunk commits it): the status page follows without a write of its own."""

    def __init__(self, import_id: int) -> None:
        self.import_id, self.read, self.written = import_id, 0, 0

    def __call__(self, lines: int) -> None:
        self.read += lines
        if self.read - self.written >= PROGRESS_EVERY:
            self.written = self.read
            db.session.execute(
                sa.update(ReaderImport)
                .where(ReaderImport.id == self.import_id)
                .values(lines_read=self.read)
            )


def _finish(import_id: int, report: ImportReport) -> ReaderImportState:
    """The counts, every rejected row and the audit entry, in one transaction."""
    row = db.session.get(ReaderImport, import_id)
    assert row is not None
    db.session.execute(
        sa.delete(ReaderImportRejection).where(ReaderImportRejection.import_id == import_id)
    )
    rows = [
        {
            "import_id": import_id,
            "line": rejection.line,
            # An erased person's address is not written back to the database: the line
            # number finds the row in the admin's own file.
            "email": _masked(rejection.email)
            if rejection.reason == SUPPRESSED
            else rejection.email[:400],
            "reason": rejection.reason[:500],
        }
        for rejection in report.rejected
    ]
    if rows:
        db.session.execute(sa.insert(ReaderImportRejection), rows)
    row.added, row.already_known = report.added, report.already_known
    row.rejected = len(report.rejected)
    row.suppressed = sum(1 for r in report.rejected if r.reason == SUPPRESSED)
    row.state, row.finished_at, row.content = ReaderImportState.DONE, utcnow(), None
    row.lines_read = row.lines_total
    record(
        row.editor,
        AuditAction.READERS_IMPORTED,
        f"{row.filename}: {row.added} added, {row.already_known} already known,"
        f" {row.rejected} rejected ({row.suppressed} suppressed)",
    )
    db.session.commit()
    return ReaderImportState.DONE


def _fail(import_id: int, error: str) -> ReaderImportState:
    db.session.rollback()
    row = db.session.get(ReaderImport, import_id)
    if row is not None:
        row.state, row.finished_at, row.content = ReaderImportState.FAILED, utcnow(), None
        row.error = error[:MAX_ERROR_LENGTH]
        # Chunks already written stay: the log says the import was tried.
        record(row.editor, AuditAction.READERS_IMPORTED, f"{row.filename}: failed: {error}")
    db.session.commit()
    return ReaderImportState.FAILED


def _masked(email: str) -> str:
    local, at, domain = email.partition("@")
    return f"{local[:1]}…{at}{domain}" if at else "…"
