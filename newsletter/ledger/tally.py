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

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from newsletter.ledger.rows import deliveries, digests
from newsletter.models import DeliveryState, DigestStatus, db

UNRECORDED = "none"  # sent letters whose sections were not recorded (before migration 0014)


def _states(digest_ids: list[int], states: Sequence[DeliveryState] = ()) -> sa.Select[Any]:
    query = sa.select(deliveries.c.digest_id, deliveries.c.state, sa.func.count()).where(
        deliveries.c.digest_id.in_(digest_ids)
    )
    if states:
        query = query.where(deliveries.c.state.in_([state.value for state in states]))
    return query.group_by(deliveries.c.digest_id, deliveries.c.state)


def _sent_masks(digest_id: int) -> sa.Select[Any]:
    return (
        sa.select(deliveries.c.sections, sa.func.count())
        .where(
            deliveries.c.digest_id == digest_id,
            deliveries.c.state == DeliveryState.SENT.value,
        )
        .group_by(deliveries.c.sections)
    )


def _masks(rows: Iterable[Any]) -> dict[str, int]:
    return {UNRECORDED if mask is None else str(mask): int(n) for mask, n in rows}


def count(conn: sa.Connection, digest_id: int) -> dict[str, Any]:
    """{"states": {state: rows}, "sent_sections": {mask: letters}} of one edition, from its rows."""
    return {
        "states": {str(state): int(n) for _, state, n in conn.execute(_states([digest_id]))},
        "sent_sections": _masks(conn.execute(_sent_masks(digest_id))),
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


def state_counts(
    digest_ids: list[int], states: Sequence[DeliveryState]
) -> dict[int, dict[str, int]]:
    """Rows in these states, per edition: a finished edition's from its tally, the others'
    counted from their rows in one grouped count."""
    if not digest_ids:
        return {}
    stored = tallies(digest_ids)
    found = {
        digest_id: {
            state.value: (
                int(stored[digest_id]["states"].get(state.value, 0)) if digest_id in stored else 0
            )
            for state in states
        }
        for digest_id in digest_ids
    }
    counted = [digest_id for digest_id in digest_ids if digest_id not in stored]
    if counted:
        for digest_id, state, n in db.session.execute(_states(counted, states)):
            found[digest_id][str(state)] = int(n)
    return found


def sent_sections(digest_id: int) -> dict[str, int]:
    """An edition's sent letters per sections mask: from its tally when finished, else its rows."""
    stored = tallies([digest_id]).get(digest_id)
    if stored is not None:
        return dict(stored["sent_sections"])
    return _masks(db.session.execute(_sent_masks(digest_id)))
