"""Bringing a list over from another tool: a CSV of email, name, regions, language.

Rows are checked one by one and written in chunks (one transaction each); an address already
known is left alone, so running the same file twice adds no one twice. Reading the file
(encoding, delimiter, header, line numbers) is csvsource's job.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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
    MAX_EMAIL_LENGTH,
    AddressError,
    email_hmac,
    normalize_address,
)
from newsletter.subscriptions.bulk import Batch, PortableWriter, PostgresWriter, Row
from newsletter.subscriptions.csvsource import COLUMNS, Record, Source, records
from newsletter.subscriptions.forms import ALL_REGIONS, MAX_NAME_LENGTH
from newsletter.subscriptions.service import LANGUAGES, all_regions

CHUNK_SIZE = 1000
# Every reason, and never which one: an import must not tell who erased themselves.
SUPPRESSED = "suppressed (erased, bounced or complained)"


@dataclass(frozen=True)
class Rejection:
    line: int
    email: str
    reason: str


@dataclass
class ImportReport:
    added: int = 0
    already_known: int = 0
    rejected: list[Rejection] = field(default_factory=list)


def import_csv(
    source: Source,
    *,
    confirmed: bool = False,
    consent_note: str | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import the file; each chunk commits, and confirmation emails leave after each commit."""
    if confirmed and not consent_note:
        raise ValueError("importing readers as confirmed needs a note of their prior consent")
    report = ImportReport()
    checker = Checker(
        source,
        {region.slug: region.id for region in all_regions()},
        current_app.config["CHECK_DELIVERABILITY"],
    )
    chunk: list[Row] = []
    filename = source.path.name
    done = source.header_line
    for record in records(source):
        row = checker.check(record)
        if isinstance(row, Rejection):
            report.rejected.append(row)
        else:
            chunk.append(row)
        if len(chunk) >= CHUNK_SIZE:
            _write(chunk, report, filename, confirmed=confirmed, note=consent_note)
            chunk = []
        if on_progress:
            on_progress(record.last_line - done)
            done = record.last_line
    if chunk:
        _write(chunk, report, filename, confirmed=confirmed, note=consent_note)
    return report


class Checker:
    """Turns each record into a Row to write or a Rejection to report."""

    def __init__(self, source: Source, regions: dict[str, int], deliverability: bool) -> None:
        self.source, self.regions, self.deliverability = source, regions, deliverability
        self.seen: dict[str, int] = {}
        # Our columns in COLUMNS order; one that the file lacks reads an empty padding field.
        self.pick = operator.itemgetter(*(source.columns.get(c, source.width) for c in COLUMNS))

    def check(self, record: Record) -> Row | Rejection:
        row = self._parse(record)
        if isinstance(row, Rejection) and record.last_line > record.line:
            span = f"the row runs over lines {record.line}-{record.last_line}"
            # Lines that read like rows inside one field: a quote opened and never closed.
            delimiter = self.source.delimiter
            broken = [f for f in record.fields if delimiter in f.partition("\n")[2]]
            hint = ": a quote left open?" if broken or record.problem else ""
            return Rejection(row.line, row.email, f"{row.reason} ({span}{hint})")
        return row

    def _parse(self, record: Record) -> Row | Rejection:
        line, fields, width = record.line, record.fields, self.source.width
        if record.problem:
            return Rejection(line, "", record.problem)
        raw_email, raw_name, raw_regions, raw_language = self.pick(
            fields + [""] * (width + 1 - len(fields))
        )
        shown = _clip(raw_email, 80)
        if len(fields) > width:
            return Rejection(line, shown, "more fields than columns")
        joined = raw_email + raw_name + raw_regions + raw_language
        if "\x00" in joined:
            return Rejection(line, shown, "NUL byte in a field")
        if "\r" in joined or "\n" in joined:
            return Rejection(line, shown.splitlines()[0] if shown else "", "CR/LF in a field")
        if len(raw_email.strip()) > MAX_EMAIL_LENGTH:
            return Rejection(line, shown, f"address longer than {MAX_EMAIL_LENGTH} characters")
        try:
            email = normalize_address(raw_email, check_deliverability=self.deliverability)
        except AddressError:
            return Rejection(line, shown, "malformed address")
        name = raw_name.strip() or None
        if name and len(name) > MAX_NAME_LENGTH:
            return Rejection(line, shown, f"name longer than {MAX_NAME_LENGTH} characters")
        return self._choices(line, shown, email, name, raw_regions, raw_language)

    def _choices(
        self, line: int, shown: str, email: str, name: str | None, regions: str, language: str
    ) -> Row | Rejection:
        # `slug;slug`, or `slug,slug` quoted in a semicolon file: slugs hold neither.
        slugs = [s.strip() for s in regions.replace(",", ";").split(";") if s.strip()]
        unknown = [s for s in slugs if s not in self.regions and s != ALL_REGIONS]
        if unknown:
            return Rejection(line, shown, f"unknown region {_clip(unknown[0])!r}")
        if not slugs:
            return Rejection(line, shown, "no region")
        language = language.strip().lower() or "fr"
        if language not in LANGUAGES:
            return Rejection(line, shown, f"unknown language {_clip(language)!r}")
        if email in self.seen:
            return Rejection(line, shown, f"duplicate of line {self.seen[email]}")
        self.seen[email] = line
        known = self.regions
        ids = tuple(known.values()) if ALL_REGIONS in slugs else tuple(known[s] for s in slugs)
        return Row(line, email, name, tuple(dict.fromkeys(ids)), language)


def _clip(value: str, length: int = 40) -> str:
    return value if len(value) <= length else value[: length - 1] + "…"


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
            report.rejected.append(Rejection(row.line, row.email, SUPPRESSED))
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
