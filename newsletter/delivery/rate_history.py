"""The adaptive rates over time, per edition and key: one row a minute, for the edition's report.

Written by the sender after each group whose key is limited or was throttled (one upsert per
key, never on the path of an unthrottled send); read by admin/report.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from newsletter.models import SendRateSample, db, utcnow


@dataclass(frozen=True)
class Tally:
    rate: float | None  # the key's rate now; None: not limited
    sent: int
    throttled: int


def note(digest_id: int, tallies: dict[str, Tally], *, now: datetime | None = None) -> None:
    """Add a group's figures to this minute's sample of each key, in one commit."""
    if not tallies:
        return
    minute = (now or utcnow()).replace(second=0, microsecond=0)
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    table = SendRateSample.__table__
    with db.engine.begin() as conn:
        for key, tally in tallies.items():
            # A key not limited this minute shows the last rate it had: 0 means none yet.
            rate = tally.rate if tally.rate is not None else 0.0
            statement = insert(table).values(
                digest_id=digest_id,
                key=key,
                minute=minute,
                rate=rate,
                sent=tally.sent,
                throttled=tally.throttled,
            )
            excluded = statement.excluded
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["digest_id", "key", "minute"],
                    set_={
                        "rate": sa.case(
                            (excluded.rate == 0, table.c.rate),
                            (table.c.rate == 0, excluded.rate),
                            else_=sa.func.min(table.c.rate, excluded.rate)
                            if conn.dialect.name == "sqlite"
                            else sa.func.least(table.c.rate, excluded.rate),
                        ),
                        "sent": table.c.sent + excluded.sent,
                        "throttled": table.c.throttled + excluded.throttled,
                    },
                )
            )


@dataclass(frozen=True)
class Sample:
    minute: datetime
    rate: float
    sent: int
    throttled: int


def history(digest_id: int) -> dict[str, list[Sample]]:
    """Each key's samples for one edition, in time order."""
    rows = db.session.execute(
        sa.select(SendRateSample)
        .where(SendRateSample.digest_id == digest_id)
        .order_by(SendRateSample.key, SendRateSample.minute)
    ).scalars()
    out: dict[str, list[Sample]] = {}
    for r in rows:
        out.setdefault(r.key, []).append(Sample(r.minute, r.rate, r.sent, r.throttled))
    return out
