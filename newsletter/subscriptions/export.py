"""Readers as CSV: the importer's columns first (an export imported again adds no one and
keeps each reader's regions, language and name), then status and dates; formula-safe."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import IO

import sqlalchemy as sa

from newsletter.models import Subscriber, SubscriberStatus, db
from newsletter.models.subscriber import region_slugs_of
from newsletter.subscriptions.csvsource import COLUMNS
from newsletter.subscriptions.spreadsheet import safe_cell

HEADER = (*COLUMNS, "status", "subscribed_at", "confirmed_at")
CHUNK = 1000


def export_readers(out: IO[str], *, statuses: Iterable[SubscriberStatus] = ()) -> int:
    """Write the readers (of these statuses; all without) to `out`; returns how many."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    count = 0
    for row in reader_rows(tuple(statuses)):
        writer.writerow([safe_cell(cell) for cell in row])
        count += 1
    return count


def reader_rows(statuses: tuple[SubscriberStatus, ...]) -> Iterator[list[str]]:
    """Rows in id order, a chunk of readers and their regions at a time (memory stays flat)."""
    s = Subscriber.__table__
    after = 0
    while True:
        query = sa.select(
            s.c.id, s.c.email, s.c.name, s.c.language, s.c.status, s.c.created_at, s.c.confirmed_at
        ).where(s.c.id > after)
        if statuses:
            query = query.where(s.c.status.in_([status.value for status in statuses]))
        chunk = db.session.execute(query.order_by(s.c.id).limit(CHUNK)).all()
        if not chunk:
            return
        regions = region_slugs_of([row.id for row in chunk])
        for row in chunk:
            yield [
                row.email,
                row.name or "",
                ";".join(regions.get(row.id, ())),
                row.language,
                str(getattr(row.status, "value", row.status)),
                row.created_at.isoformat() if row.created_at else "",
                row.confirmed_at.isoformat() if row.confirmed_at else "",
            ]
        after = chunk[-1].id
