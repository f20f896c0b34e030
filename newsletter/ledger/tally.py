"""A finished edition's figures, counted once: its rows per state, and its sent letters per
recorded sections mask (clicks/sections.py).

A finished edition's rows change no more but for two transitions, both here in the ledger:
`settle_uncertain` (uncertain → sent, from the relay's log) drops the tally, and the edition is
then counted from its rows; sending rows again moves the edition back to `sending`, which drops
it too, and finishing again counts anew. The tally is written in the transaction that finishes
the edition, after its status changed: a concurrent settle either waits for that commit (and
then drops the tally) or committed before the count (which then sees its rows).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from newsletter.ledger.rows import deliveries, digests
from newsletter.models import DeliveryState, DigestStatus, db

UNRECORDED = "none"  # sent letters whose sections were not recorded (before migration 0014)


def count(conn: sa.Connection, digest_id: int) -> dict[str, Any]:
    """{"states": {state: rows}, "sent_sections": {mask: letters}} of one edition, from its rows."""
    mine = deliveries.c.digest_id == digest_id
    states = conn.execute(
        sa.select(deliveries.c.state, sa.func.count()).where(mine).group_by(deliveries.c.state)
    )
    masks = conn.execute(
        sa.select(deliveries.c.sections, sa.func.count())
        .where(mine, deliveries.c.state == DeliveryState.SENT.value)
        .group_by(deliveries.c.sections)
    )
    return {
        "states": {str(state): int(n) for state, n in states},
        "sent_sections": {UNRECORDED if mask is None else str(mask): int(n) for mask, n in masks},
    }


def store(conn: sa.Connection, digest_id: int) -> None:
    conn.execute(
        digests.update().where(digests.c.id == digest_id).values(tally=count(conn, digest_id))
    )


def tallies(digest_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The stored tallies of these editions that are finished and have one."""
    rows = db.session.execute(
        sa.select(digests.c.id, digests.c.tally).where(
            digests.c.id.in_(list(digest_ids)),
            digests.c.status == DigestStatus.FINISHED.value,
            digests.c.tally.is_not(None),
        )
    )
    return {int(digest_id): tally for digest_id, tally in rows if isinstance(tally, dict)}
