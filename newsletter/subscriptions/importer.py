"""Bringing a list over from another tool: a CSV of email, name, regions, language.

Rows are checked one by one and written in chunks (one transaction each); an address already
known is left alone, so running the same file twice adds no one twice.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import ARRAY

from newsletter import jobs
from newsletter.models import (
    Subscriber,
    Suppression,
    db,
    utcnow,
)
from newsletter.subscriptions.addresses import (
    AddressError,
    email_hmac,
    has_control_characters,
    normalize_address,
)
from newsletter.subscriptions.bulk import Batch, PortableWriter, PostgresWriter
from newsletter.subscriptions.forms import ALL_REGIONS, MAX_NAME_LENGTH
from newsletter.subscriptions.service import LANGUAGES, all_regions

COLUMNS = ("email", "name", "regions", "language")
CHUNK_SIZE = 1000


class ImportFileError(Exception):
    """The file as a whole cannot be read (no email column, not UTF-8...)."""


@dataclass(frozen=True)
class Rejection:
    line: int
    email: str
    reason: str


@dataclass(frozen=True)
class Row:
    line: int
    email: str
    name: str | None
    region_ids: tuple[int, ...]
    language: str


@dataclass
class ImportReport:
    added: int = 0
    already_known: int = 0
    rejected: list[Rejection] = field(default_factory=list)


def count_rows(path: Path) -> int:
    with path.open("rb") as handle:
        return max(0, sum(1 for _ in handle) - 1)


def import_csv(
    path: Path,
    *,
    confirmed: bool = False,
    consent_note: str | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import the file; each chunk commits, and confirmation emails leave after each commit."""
    if confirmed and not consent_note:
        raise ValueError("importing readers as confirmed needs a note of their prior consent")
    report = ImportReport()
    regions = {region.slug: region.id for region in all_regions()}
    seen: dict[str, int] = {}
    chunk: list[Row] = []
    for line, raw in _read(path):
        row = _check(line, raw, regions, seen)
        if isinstance(row, Rejection):
            report.rejected.append(row)
        else:
            chunk.append(row)
        if len(chunk) >= CHUNK_SIZE:
            _write(chunk, report, path.name, confirmed=confirmed, note=consent_note)
            chunk = []
        if on_progress:
            on_progress(1)
    if chunk:
        _write(chunk, report, path.name, confirmed=confirmed, note=consent_note)
    return report


def _read(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip().lower() for name in reader.fieldnames or []]
            if "email" not in header:
                raise ImportFileError(f"no 'email' column (expected {', '.join(COLUMNS)})")
            reader.fieldnames = header
            # A quoted field may span lines: a row is named by the line it starts on.
            start = reader.line_num + 1
            for row in reader:
                yield start, row
                start = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"not UTF-8: {exc}") from None


def _check(
    line: int, raw: dict[str, Any], regions: dict[str, int], seen: dict[str, int]
) -> Row | Rejection:
    values = {name: raw.get(name) for name in COLUMNS}
    shown = str(values["email"] or "")[:80]
    if None in raw or any(isinstance(v, list) for v in raw.values()):
        return Rejection(line, shown, "more fields than columns")
    if any(isinstance(v, str) and has_control_characters(v) for v in values.values()):
        return Rejection(line, shown.splitlines()[0] if shown else "", "CR/LF in a field")
    try:
        email = normalize_address(
            values["email"] or "", check_deliverability=current_app.config["CHECK_DELIVERABILITY"]
        )
    except AddressError:
        return Rejection(line, shown, "malformed address")
    name = (values["name"] or "").strip() or None
    if name and len(name) > MAX_NAME_LENGTH:
        return Rejection(line, shown, f"name longer than {MAX_NAME_LENGTH} characters")
    slugs = [s.strip() for s in (values["regions"] or "").split(";") if s.strip()]
    unknown = [s for s in slugs if s not in regions and s != ALL_REGIONS]
    if unknown:
        return Rejection(line, shown, f"unknown region {unknown[0]!r}")
    if not slugs:
        return Rejection(line, shown, "no region")
    language = (values["language"] or "fr").strip().lower()
    if language not in LANGUAGES:
        return Rejection(line, shown, f"unknown language {language!r}")
    if email in seen:
        return Rejection(line, shown, f"duplicate of line {seen[email]}")
    seen[email] = line
    ids = tuple(regions.values()) if ALL_REGIONS in slugs else tuple(regions[s] for s in slugs)
    return Row(line, email, name, tuple(dict.fromkeys(ids)), language)


def _write(
    rows: Sequence[Row], report: ImportReport, filename: str, *, confirmed: bool, note: str | None
) -> None:
    keys = {row.email: email_hmac(row.email) for row in rows}
    known = set(
        db.session.execute(
            db.select(Subscriber.email).where(_among(Subscriber.email, list(keys)))
        ).scalars()
    )
    suppressed = set(
        db.session.execute(
            db.select(Suppression.email_hmac).where(
                _among(Suppression.email_hmac, list(keys.values()))
            )
        ).scalars()
    )
    fresh = []
    for row in rows:
        if keys[row.email] in suppressed:
            report.rejected.append(Rejection(row.line, row.email, "on the suppression list"))
        elif row.email in known:
            report.already_known += 1
        else:
            fresh.append(row)
    if not fresh:
        return
    batch = Batch(
        rows=fresh,
        now=utcnow(),
        confirmed=confirmed,
        filename=filename,
        note=note,
    )
    writer = PostgresWriter() if db.engine.dialect.name == "postgresql" else PortableWriter()
    ids = writer.subscribers(batch)
    report.already_known += len(fresh) - len(ids)
    report.added += len(ids)
    batch.rows = [row for row in fresh if row.email in ids]
    if batch.rows:
        writer.regions(batch, ids)
        writer.consent(batch, ids)
        if not confirmed:
            jobs.enqueue("subscriptions.send_confirmations", [ids[r.email] for r in batch.rows])
    db.session.commit()


def _among(column: Any, values: list[str]) -> Any:
    if db.engine.dialect.name == "postgresql":
        # One array parameter instead of a thousand: psycopg parses the query once.
        return column == sa.any_(sa.bindparam("values", values, type_=ARRAY(sa.String)))
    return column.in_(values)
