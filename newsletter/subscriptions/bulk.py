"""Writing a chunk of imported readers: portable multi-row INSERTs, or unnest() on PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from newsletter.models import (
    ConsentEvent,
    ConsentKind,
    Subscriber,
    SubscriberStatus,
    db,
    subscriber_regions,
)
from newsletter.models.subscriber import new_nonce


@dataclass(frozen=True)
class Row:
    """One valid line of an import: what the writers insert."""

    line: int
    email: str
    name: str | None
    region_ids: tuple[int, ...]
    language: str


@dataclass
class Batch:
    rows: Sequence[Row]
    now: datetime
    confirmed: bool
    filename: str
    note: str | None

    @property
    def status(self) -> SubscriberStatus:
        return SubscriberStatus.CONFIRMED if self.confirmed else SubscriberStatus.PENDING

    @property
    def kind(self) -> ConsentKind:
        return ConsentKind.IMPORT if self.confirmed else ConsentKind.SUBSCRIBE

    @property
    def source(self) -> str:
        return f"import:{self.filename}"[:200]


class PortableWriter:
    """Multi-row INSERTs; ON CONFLICT DO NOTHING leaves a reader who signed up meanwhile."""

    def subscribers(self, batch: Batch) -> dict[str, int]:
        statement = (
            sqlite.insert(Subscriber.__table__)
            .on_conflict_do_nothing(index_elements=["email"])
            .returning(Subscriber.id, Subscriber.email)
        )
        rows = [
            {
                "email": row.email,
                "name": row.name,
                "language": row.language,
                "status": batch.status,
                "paused": False,
                "token_nonce": new_nonce(),
                "hard_bounces": 0,
                "created_at": batch.now,
                "updated_at": batch.now,
                "confirmed_at": batch.now if batch.confirmed else None,
            }
            for row in batch.rows
        ]
        return {email: sid for sid, email in db.session.execute(statement, rows).all()}

    def regions(self, batch: Batch, ids: dict[str, int]) -> None:
        db.session.execute(
            subscriber_regions.insert(),
            [
                {"subscriber_id": ids[row.email], "region_id": region_id}
                for row in batch.rows
                for region_id in row.region_ids
            ],
        )

    def consent(self, batch: Batch, ids: dict[str, int]) -> None:
        db.session.execute(
            sa.insert(ConsentEvent),
            [
                {
                    "subscriber_id": ids[row.email],
                    "kind": batch.kind,
                    "at": batch.now,
                    "source": batch.source,
                    "detail": {"file": batch.filename, "line": row.line, "note": batch.note},
                }
                for row in batch.rows
            ],
        )


class PostgresWriter:
    """The same rows through unnest() of array parameters: a few parameters per chunk, not
    ten thousand, so neither psycopg nor PostgreSQL parses a huge statement."""

    def subscribers(self, batch: Batch) -> dict[str, int]:
        result = db.session.execute(
            sa.text(
                "INSERT INTO subscribers (email, name, language, status, paused, token_nonce,"
                " hard_bounces, created_at, updated_at, confirmed_at)"
                " SELECT e, n, l, :status, false, t, 0, :now, :now, :confirmed_at"
                " FROM unnest(CAST(:emails AS varchar[]), CAST(:names AS varchar[]),"
                " CAST(:languages AS varchar[]), CAST(:nonces AS varchar[])) AS u(e, n, l, t)"
                " ON CONFLICT (email) DO NOTHING RETURNING id, email"
            ),
            {
                "status": batch.status.value,
                "now": batch.now,
                "confirmed_at": batch.now if batch.confirmed else None,
                "emails": [row.email for row in batch.rows],
                "names": [row.name for row in batch.rows],
                "languages": [row.language for row in batch.rows],
                "nonces": [new_nonce() for _ in batch.rows],
            },
        )
        return {email: sid for sid, email in result.all()}

    def regions(self, batch: Batch, ids: dict[str, int]) -> None:
        pairs = [(ids[row.email], rid) for row in batch.rows for rid in row.region_ids]
        db.session.execute(
            sa.text(
                "INSERT INTO subscriber_regions (subscriber_id, region_id)"
                " SELECT * FROM unnest(CAST(:sids AS integer[]), CAST(:rids AS integer[]))"
            ),
            {"sids": [p[0] for p in pairs], "rids": [p[1] for p in pairs]},
        )

    def consent(self, batch: Batch, ids: dict[str, int]) -> None:
        db.session.execute(
            sa.text(
                "INSERT INTO consent_events (subscriber_id, kind, at, source, detail)"
                " SELECT s, :kind, :now, :source, json_build_object("
                "'file', CAST(:file AS text), 'line', l, 'note', CAST(:note AS text))"
                " FROM unnest(CAST(:sids AS integer[]), CAST(:lines AS integer[])) AS u(s, l)"
            ),
            {
                "kind": batch.kind.value,
                "now": batch.now,
                "source": batch.source,
                "file": batch.filename,
                "note": batch.note,
                "sids": [ids[row.email] for row in batch.rows],
                "lines": [row.line for row in batch.rows],
            },
        )
