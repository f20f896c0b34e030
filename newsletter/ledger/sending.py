"""The sender's transitions: claim (C1), hand over (C2), record (C3), settle (C3 + C2), release,
postpone, reopen, cancel leftovers. Each is one commit on the sender's connection.

Every write is fenced by the batch's lease token, so a worker that lost its lease (killed, too
slow, digest paused) can never hand a row over twice. Where the two databases want different
statements, both forms stand side by side and share their parameters.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from newsletter.ledger.rows import (
    CLAIMABLE,
    Batch,
    Claimed,
    Result,
    at,
    clears_handoff,
    deliveries,
    digest_is,
    give_back,
    id_array,
    is_terminal,
    lease_until,
    values,
    writing,
)
from newsletter.models import DeliveryState, DigestStatus, utcnow
from newsletter.models.base import UTCDateTime

SENDING = DeliveryState.SENDING.value

# -- C1: claim -----------------------------------------------------------------------------------


def claim(
    digest_id: int,
    *,
    size: int,
    lease_seconds: float,
    now: datetime | None = None,
    owner: str | None = None,
    conn: sa.Connection | None = None,
) -> Batch:
    """Take up to `size` due rows of a sending digest with a fresh lease, in one statement.

    `owner`: the claiming worker process (delivery/liveness.py), so that its death is seen
    before the lease runs out; None for a drain run outside a worker.

    PostgreSQL: the rows are picked FOR UPDATE SKIP LOCKED, so concurrent workers never wait on
    each other nor take the same row. SQLite has one writer: BEGIN IMMEDIATE (writing()) takes
    the write lock first, so the conditional UPDATE reads and writes under it.
    """
    now = now or utcnow()
    token = secrets.token_hex(16)
    due = (
        sa.select(deliveries.c.id)
        .where(
            deliveries.c.digest_id == digest_id,
            deliveries.c.state.in_(values(CLAIMABLE)),
            deliveries.c.next_attempt_at <= at(now),
        )
        # No ORDER BY: any due rows will do, and the claim index yields them in its own order,
        # so the scan stops after `size` rows. ORDER BY id made PostgreSQL sort every pending
        # row of the digest at each claim (LockRows sits between the sort and the limit):
        # quadratic in the digest's size.
        .limit(size)
    )
    with writing(conn) as conn:
        if conn.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
            # A claim need not wait for the WAL flush: if the server lost it in a crash, the
            # rows are simply pending again, and our handoff (fenced on the lease token,
            # synchronous, flushing the claim with it) would find them no longer ours.
            # Only the claim index's ordered scan stops after `size` rows. Right after a plan
            # the statistics still describe an empty table, and PostgreSQL then chose a bitmap
            # of every pending row of the digest at each claim (30 ms at 1,000,000 rows), or
            # would choose a scan of the whole table.
            conn.exec_driver_sql(
                "SET LOCAL synchronous_commit TO off;"
                " SET LOCAL enable_bitmapscan TO off; SET LOCAL enable_seqscan TO off"
            )
        rows = conn.execute(
            deliveries.update()
            .where(
                deliveries.c.id.in_(due.scalar_subquery()),
                digest_is(digest_id, DigestStatus.SENDING),
            )
            .values(
                state=SENDING,
                attempts=deliveries.c.attempts + 1,
                lease_token=token,
                lease_expires_at=lease_until(now, lease_seconds),
                lease_owner=owner,
                handoff_at=None,
            )
            .returning(
                deliveries.c.id,
                deliveries.c.subscriber_id,
                deliveries.c.attempts,
                deliveries.c.created_at,
            )
        ).all()
    claimed = sorted((Claimed(r[0], r[1], r[2], r[3]) for r in rows), key=lambda c: c.id)
    return Batch(digest_id, token, tuple(claimed))


# -- C2: hand over -------------------------------------------------------------------------------


def hand_over(
    batch: Batch,
    ids: Sequence[int],
    *,
    lease_seconds: float,
    now: datetime | None = None,
    renew: bool = True,
    conn: sa.Connection | None = None,
    targets: Sequence[int] | None = None,
) -> set[int]:
    """Mark rows as handed over just before their SMTP transactions; returns those still ours.

    Fenced: only rows still `sending` under our token, with a live lease, of a digest still
    sending. With `renew` it also renews the lease of `targets` (default: the whole batch;
    the heartbeat). From here on a lost reply makes a row `uncertain`, never re-sent.
    """
    if not ids:
        return set()
    now = now or utcnow()
    with writing(conn) as conn:
        return _hand_over(conn, batch, ids, lease_seconds, now, renew, targets)


def _mine(batch: Batch, now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        deliveries.c.lease_token == batch.lease_token,
        deliveries.c.state == SENDING,
        deliveries.c.lease_expires_at > at(now),
        digest_is(batch.digest_id, DigestStatus.SENDING),
    )


def _hand_over(
    conn: sa.Connection,
    batch: Batch,
    ids: Sequence[int],
    lease_seconds: float,
    now: datetime,
    renew: bool,
    targets: Sequence[int] | None,
) -> set[int]:
    group = list(ids)
    if renew:
        # The handoff marker on the group and the heartbeat on the batch, in one go.
        renewed = list(targets) if targets is not None else [r.id for r in batch.rows]
        statement = (
            deliveries.update()
            .where(deliveries.c.id.in_(renewed), _mine(batch, now))
            .values(
                handoff_at=sa.case(
                    (deliveries.c.id.in_(group), at(now)), else_=deliveries.c.handoff_at
                ),
                lease_expires_at=lease_until(now, lease_seconds),
            )
        )
    else:
        # Only the marker: no indexed column changes, so PostgreSQL can update in place (HOT).
        statement = (
            deliveries.update()
            .where(deliveries.c.id.in_(group), _mine(batch, now))
            .values(handoff_at=now)
        )
    rows = conn.execute(statement.returning(deliveries.c.id)).all()
    return {r[0] for r in rows} & set(group)


# -- C3: record ----------------------------------------------------------------------------------


def record(
    batch: Batch,
    results: Iterable[Result],
    *,
    now: datetime | None = None,
    conn: sa.Connection | None = None,
) -> None:
    """Write the outcomes of one group in one commit, each fenced by our lease token.

    Terminal outcomes get a finished_at; every outcome drops the lease; a row back in the
    queue (deferred, pending) also loses its handoff marker: nothing was delivered. A row no
    longer ours (reclaimed by the reconciler) is left as it is.
    """
    now = now or utcnow()
    results = list(results)
    if not results:
        return
    with writing(conn) as conn:
        _record(conn, batch, results, now)


def _outcomes(results: Sequence[Result]) -> list[dict[str, Any]]:
    """Each result as the row both forms of RECORD read: the rules decided here, once."""
    return [
        {
            "id": r.delivery_id,
            "state": r.state.value,
            "code": r.code,
            "reply": (r.reply or "")[:1000] or None,
            "mid": r.message_id,
            "next_at": r.next_attempt_at,
            # Kept for an uncertain row too: the relay's log may show it accepted (settle).
            "sections": r.sections,
            "sent": r.state is DeliveryState.SENT,
            "done": is_terminal(r.state),
            "clear": clears_handoff(r.state),
        }
        for r in results
    ]


# SQLite: one UPDATE, executed once per row (executemany in-process is cheap).
_RECORD_SQLITE = (
    deliveries.update()
    .where(
        deliveries.c.id == sa.bindparam("b_id"),
        deliveries.c.lease_token == sa.bindparam("b_token"),
    )
    .values(
        state=sa.bindparam("b_state"),
        smtp_code=sa.bindparam("b_code"),
        smtp_reply=sa.bindparam("b_reply"),
        message_id=sa.func.coalesce(sa.bindparam("b_mid"), deliveries.c.message_id),
        sections=sa.func.coalesce(
            sa.bindparam("b_sections", type_=sa.BigInteger()), deliveries.c.sections
        ),
        sent_at=sa.bindparam("b_sent_at", type_=UTCDateTime()),
        finished_at=sa.bindparam("b_finished_at", type_=UTCDateTime()),
        next_attempt_at=sa.bindparam("b_next", type_=UTCDateTime()),
        handoff_at=sa.case(
            (sa.bindparam("b_clear", type_=sa.Boolean()), None),
            else_=deliveries.c.handoff_at,
        ),
        lease_token=None,
        lease_expires_at=None,
    )
)

# PostgreSQL: one UPDATE over the group as one JSON document, not a VALUES list nor arrays:
# the statement text never changes (compiled and planned once whatever the group's size),
# and json.dumps is far cheaper than dumping seven array parameters.
_RECORD_PG = sa.text(
    """
    UPDATE deliveries AS d SET
        state = v.state,
        smtp_code = v.code,
        smtp_reply = v.reply,
        message_id = coalesce(v.mid, d.message_id),
        sections = coalesce(v.sections, d.sections),
        sent_at = CASE WHEN v.sent THEN CAST(:now AS timestamptz) END,
        finished_at = CASE WHEN v.done THEN CAST(:now AS timestamptz) END,
        next_attempt_at = coalesce(v.next_at, CAST(:now AS timestamptz)),
        handoff_at = CASE WHEN v.clear THEN NULL ELSE d.handoff_at END,
        lease_token = NULL,
        lease_expires_at = NULL
    FROM json_to_recordset(CAST(:rows AS json)) AS v(
        id bigint, state varchar, code smallint, reply text, mid varchar,
        next_at timestamptz, sections bigint, sent boolean, done boolean, clear boolean
    )
    WHERE d.id = v.id AND d.lease_token = :token
    """
)


def _record_sqlite_params(batch: Batch, rows: list[dict[str, Any]], now: datetime) -> list[Any]:
    return [
        {
            "b_id": row["id"],
            "b_token": batch.lease_token,
            "b_state": row["state"],
            "b_code": row["code"],
            "b_reply": row["reply"],
            "b_mid": row["mid"],
            "b_sections": row["sections"],
            "b_sent_at": now if row["sent"] else None,
            "b_finished_at": now if row["done"] else None,
            "b_next": row["next_at"] or now,
            "b_clear": row["clear"],
        }
        for row in rows
    ]


def _record_pg_params(batch: Batch, rows: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    for row in rows:
        row["next_at"] = row["next_at"].isoformat() if row["next_at"] else None
    return {"now": now, "token": batch.lease_token, "rows": json.dumps(rows)}


def _record(conn: sa.Connection, batch: Batch, results: Sequence[Result], now: datetime) -> None:
    rows = _outcomes(results)
    if conn.dialect.name == "postgresql":
        conn.execute(_RECORD_PG, _record_pg_params(batch, rows, now))
    else:
        conn.execute(_RECORD_SQLITE, _record_sqlite_params(batch, rows, now))


# -- C3 of one group and C2 of the next: settle ---------------------------------------------------

# PostgreSQL: one statement, so one round trip and one synchronous commit. The CTE and the
# outer UPDATE touch disjoint rows (the recorded group is not in `targets`). The outer UPDATE
# is _hand_over's, fence included. SQLite: the two statements in one transaction.
_SETTLE_PG = sa.text(
    "WITH recorded AS ("
    + _RECORD_PG.text.rstrip()
    + f""" RETURNING d.id)
    UPDATE deliveries SET
        handoff_at = CASE WHEN id = ANY(CAST(:group AS bigint[]))
                          THEN CAST(:now AS timestamptz) ELSE handoff_at END,
        lease_expires_at = CASE WHEN :renew THEN CAST(:lease_until AS timestamptz)
                                ELSE lease_expires_at END
    WHERE id = ANY(CAST(:targets AS bigint[]))
      AND lease_token = :token AND state = '{SENDING}'
      AND lease_expires_at > CAST(:now AS timestamptz)
      AND EXISTS (SELECT 1 FROM digests
                  WHERE id = :digest_id AND status = '{DigestStatus.SENDING.value}')
    RETURNING id
    """
)


def settle(
    batch: Batch,
    results: Sequence[Result],
    next_ids: Sequence[int],
    *,
    lease_seconds: float,
    renew: bool,
    rest: Sequence[int] = (),
    now: datetime | None = None,
    conn: sa.Connection | None = None,
) -> set[int]:
    """C3 of the group just sent and C2 of the next one, in one commit; returns the next
    group's rows still ours (as `hand_over`). `rest`: the batch's later rows, whose lease the
    heartbeat renews with the next group's (never the recorded rows: they are done)."""
    now = now or utcnow()
    targets = [*next_ids, *rest]
    if not results:
        return hand_over(
            batch,
            next_ids,
            lease_seconds=lease_seconds,
            now=now,
            renew=renew,
            conn=conn,
            targets=targets,
        )
    if not next_ids:
        record(batch, results, now=now, conn=conn)
        return set()
    with writing(conn) as conn:
        if conn.dialect.name != "postgresql":
            _record(conn, batch, results, now)
            return _hand_over(conn, batch, next_ids, lease_seconds, now, renew, targets)
        rows = conn.execute(
            _SETTLE_PG,
            {
                **_record_pg_params(batch, _outcomes(results), now),
                "group": id_array(next_ids),
                "targets": id_array(targets if renew else next_ids),
                "renew": renew,
                "lease_until": lease_until(now, lease_seconds),
                "digest_id": batch.digest_id,
            },
        ).all()
    return {r[0] for r in rows} & set(next_ids)


# -- ending a batch early ------------------------------------------------------------------------


def release(batch: Batch, ids: Iterable[int], *, conn: sa.Connection | None = None) -> None:
    """Give back rows that were claimed but never handed over (pause, relay down, budget)."""
    ids = list(ids)
    if not ids:
        return
    with writing(conn) as conn:
        conn.execute(
            deliveries.update()
            .where(
                deliveries.c.id.in_(ids),
                deliveries.c.lease_token == batch.lease_token,
                deliveries.c.handoff_at.is_(None),
            )
            .values(give_back())
        )


def postpone(
    batch: Batch, until: Sequence[tuple[int, datetime]], *, conn: sa.Connection | None = None
) -> None:
    """Claimed rows held back by the send rate, never handed over: each deferred to its time,
    the claim's attempt returned (nothing reached the relay), so pacing never hastens expiry."""
    if not until:
        return
    with writing(conn) as conn:
        conn.execute(
            deliveries.update()
            .where(
                deliveries.c.id == sa.bindparam("b_id"),
                deliveries.c.lease_token == batch.lease_token,
                deliveries.c.handoff_at.is_(None),
            )
            .values(
                {
                    **give_back(),
                    "state": DeliveryState.DEFERRED.value,
                    "next_attempt_at": sa.bindparam("b_next", type_=UTCDateTime()),
                }
            ),
            [{"b_id": i, "b_next": at} for i, at in until],
        )


def cancel_leftovers(digest_id: int, *, conn: sa.Connection | None = None) -> None:
    """Rows given back after a cancel (halted before their MAIL FROM) end cancelled too."""
    with writing(conn) as conn:
        conn.execute(
            deliveries.update()
            .where(
                deliveries.c.digest_id == digest_id,
                deliveries.c.state == DeliveryState.PENDING.value,
                digest_is(digest_id, DigestStatus.CANCELLED),
            )
            .values(state=DeliveryState.CANCELLED.value, finished_at=utcnow())
        )


def reopen(ids: Iterable[int], *, conn: sa.Connection | None = None) -> None:
    """Failed rows that were our own fault (the relay refused us) go back to pending."""
    ids = list(ids)
    if not ids:
        return
    with writing(conn) as conn:
        conn.execute(
            deliveries.update()
            .where(deliveries.c.id.in_(ids), deliveries.c.state == DeliveryState.FAILED.value)
            .values(
                state=DeliveryState.PENDING.value,
                finished_at=None,
                handoff_at=None,
                smtp_code=None,
            )
        )
