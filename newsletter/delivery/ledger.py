"""The ledger's statements: plan, claim, hand over, record, release, finish. Each is one commit.

The rows are the checkpoint. Every write by a sender is fenced by its lease token, so a worker
that lost its lease (killed, too slow, digest paused) can never hand a row over twice.
See docs/delivery.md for the state machine and the commit points C0 to C3.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from newsletter.models import (
    OPEN_STATES,
    Delivery,
    DeliveryState,
    Digest,
    DigestStatus,
    Subscriber,
    SubscriberStatus,
    db,
    subscriber_regions,
    utcnow,
)
from newsletter.models.base import UTCDateTime, execute_dml
from newsletter.models.region import Region

deliveries = Delivery.__table__
digests = Digest.__table__
CLAIMABLE = (DeliveryState.PENDING, DeliveryState.DEFERRED)


@dataclass(frozen=True)
class Claimed:
    id: int
    subscriber_id: int | None
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class Batch:
    digest_id: int
    lease_token: str
    rows: tuple[Claimed, ...]


def _now(value: datetime) -> sa.BindParameter[datetime]:
    return sa.bindparam(None, value, type_=UTCDateTime())


# -- C0: planning ------------------------------------------------------------------------------


def plan_rows(digest: Digest, *, regions_with_news: set[str] | None, now: datetime) -> int:
    """One INSERT … SELECT: a row per confirmed, unpaused reader confirmed before planning.

    Readers none of whose regions has news are inserted as `skipped` in the same statement
    (None: we cannot tell, every row is pending and the sender decides). Called once per
    digest, under its row lock while it is `planned`; the unique (digest_id, subscriber_id)
    constraint guards the rest. Returns the digest's row count.
    """
    s = Subscriber.__table__
    if regions_with_news is None:
        state: sa.ColumnElement[str] = sa.literal(DeliveryState.PENDING.value)
    else:
        region_ids = sa.select(Region.id).where(Region.slug.in_(sorted(regions_with_news)))
        has_news = sa.exists().where(
            subscriber_regions.c.subscriber_id == s.c.id,
            subscriber_regions.c.region_id.in_(region_ids.scalar_subquery()),
        )
        state = sa.case((has_news, DeliveryState.PENDING.value), else_=DeliveryState.SKIPPED.value)
    source = sa.select(
        sa.literal(digest.id),
        s.c.id,
        state,
        sa.literal(0),
        _now(now),
        _now(now),
    ).where(
        s.c.status == SubscriberStatus.CONFIRMED.value,
        s.c.paused.is_(False),
        s.c.confirmed_at <= _now(now),
    )
    columns = ["digest_id", "subscriber_id", "state", "attempts", "next_attempt_at", "created_at"]
    if db.session.get_bind().dialect.name == "postgresql":
        # The caller holds the digest row FOR UPDATE and saw it `planned`: no row of this
        # digest can exist (an earlier attempt committed nothing, or the status would say so),
        # so a plain INSERT is safe, and much cheaper than ON CONFLICT's speculative inserts.
        statement = sa.insert(deliveries).from_select(columns, source)
    else:
        # SQLite cannot lock the digest row: two planners may race; the second adds nothing.
        statement = sqlite.insert(deliveries).from_select(columns, source).on_conflict_do_nothing()
    db.session.execute(statement)
    count = db.session.execute(
        sa.select(sa.func.count())
        .select_from(deliveries)
        .where(deliveries.c.digest_id == digest.id)
    ).scalar_one()
    return int(count)


# -- C1: the claim -----------------------------------------------------------------------------


def claim(
    digest_id: int,
    *,
    size: int,
    lease_seconds: float,
    now: datetime | None = None,
    owner: str | None = None,
) -> Batch:
    """Take up to `size` due rows of a sending digest with a fresh lease, in one statement.

    `owner`: the claiming worker process (liveness.py), so that its death is seen before the
    lease runs out; None for a drain run outside a worker.

    PostgreSQL: the rows are picked FOR UPDATE SKIP LOCKED, so concurrent workers never wait on
    each other nor take the same row. SQLite has one writer: BEGIN IMMEDIATE takes the write
    lock first, so the conditional UPDATE reads and writes under it.
    """
    now = now or utcnow()
    token = secrets.token_hex(16)
    due = (
        sa.select(deliveries.c.id)
        .where(
            deliveries.c.digest_id == digest_id,
            deliveries.c.state.in_([s.value for s in CLAIMABLE]),
            deliveries.c.next_attempt_at <= _now(now),
        )
        # No ORDER BY: any due rows will do, and the claim index yields them in its own order,
        # so the scan stops after `size` rows. ORDER BY id made PostgreSQL sort every pending
        # row of the digest at each claim (LockRows sits between the sort and the limit):
        # quadratic in the digest's size.
        .limit(size)
    )
    sending = sa.exists().where(
        digests.c.id == digest_id, digests.c.status == DigestStatus.SENDING.value
    )
    with db.engine.connect() as conn:
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
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        statement = (
            deliveries.update()
            .where(deliveries.c.id.in_(due.scalar_subquery()), sending)
            .values(
                state=DeliveryState.SENDING.value,
                attempts=deliveries.c.attempts + 1,
                lease_token=token,
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                lease_owner=owner,
                handoff_at=None,
            )
            .returning(
                deliveries.c.id,
                deliveries.c.subscriber_id,
                deliveries.c.attempts,
                deliveries.c.created_at,
            )
        )
        rows = conn.execute(statement).all()
        conn.commit()
    claimed = sorted((Claimed(r[0], r[1], r[2], r[3]) for r in rows), key=lambda c: c.id)
    return Batch(digest_id, token, tuple(claimed))


# -- C2: the handoff marker ----------------------------------------------------------------------


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
    with _writing(conn) as conn:
        return _hand_over(conn, batch, ids, lease_seconds, now, renew, targets)


def _hand_over(
    conn: sa.Connection,
    batch: Batch,
    ids: Sequence[int],
    lease_seconds: float,
    now: datetime,
    renew: bool,
    targets: Sequence[int] | None,
) -> set[int]:
    sending = sa.exists().where(
        digests.c.id == batch.digest_id, digests.c.status == DigestStatus.SENDING.value
    )
    mine = sa.and_(
        deliveries.c.lease_token == batch.lease_token,
        deliveries.c.state == DeliveryState.SENDING.value,
        deliveries.c.lease_expires_at > _now(now),
        sending,
    )
    group = list(ids)
    if renew:
        # The handoff marker on the group and the heartbeat on the batch, in one go.
        renewed = list(targets) if targets is not None else [r.id for r in batch.rows]
        statement = (
            deliveries.update()
            .where(deliveries.c.id.in_(renewed), mine)
            .values(
                handoff_at=sa.case(
                    (deliveries.c.id.in_(group), _now(now)), else_=deliveries.c.handoff_at
                ),
                lease_expires_at=now + timedelta(seconds=lease_seconds),
            )
        )
    else:
        # Only the marker: no indexed column changes, so PostgreSQL can update in place (HOT).
        statement = (
            deliveries.update().where(deliveries.c.id.in_(group), mine).values(handoff_at=now)
        )
    rows = conn.execute(statement.returning(deliveries.c.id)).all()
    return {r[0] for r in rows} & set(group)


@contextmanager
def _writing(conn: sa.Connection | None) -> Iterator[sa.Connection]:
    """One short write transaction, on the sender's connection when it has one.

    SQLite takes its write lock first (BEGIN IMMEDIATE) rather than fail to upgrade a read
    lock later. Reusing the sender's connection saves a pool checkout (and its pre-ping).
    """
    if conn is None:
        with db.engine.connect() as fresh, _writing(fresh) as same:
            yield same
        return
    if conn.in_transaction():
        conn.commit()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


# -- C3: results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    delivery_id: int
    state: DeliveryState
    code: int | None = None
    reply: str | None = None
    message_id: str | None = None
    next_attempt_at: datetime | None = None


def record(
    batch: Batch,
    results: Iterable[Result],
    *,
    now: datetime | None = None,
    conn: sa.Connection | None = None,
) -> None:
    """Write the outcomes of one group in one commit, each fenced by our lease token.

    Terminal outcomes drop the lease; a deferral also clears the handoff marker (nothing was
    delivered). A row no longer ours (reclaimed by the reconciler) is left as it is.
    """
    now = now or utcnow()
    results = list(results)
    if not results:
        return
    with _writing(conn) as conn:
        _record(conn, batch, results, now)


_RECORD = (
    deliveries.update()
    .where(
        deliveries.c.id == sa.bindparam("b_id"),
        deliveries.c.lease_token == sa.bindparam("b_token"),
    )
    .values(
        state=sa.bindparam("b_state"),
        smtp_code=sa.bindparam("b_code"),
        smtp_reply=sa.bindparam("b_reply"),
        message_id=sa.func.coalesce(sa.bindparam("b_message_id"), deliveries.c.message_id),
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


def _record(conn: sa.Connection, batch: Batch, results: Sequence[Result], now: datetime) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(_RECORD_PG, _record_params(batch, results, now))
        return
    params = []
    for r in results:
        terminal = r.state not in OPEN_STATES
        params.append(
            {
                "b_id": r.delivery_id,
                "b_token": batch.lease_token,
                "b_state": r.state.value,
                "b_code": r.code,
                "b_reply": (r.reply or "")[:1000] or None,
                "b_message_id": r.message_id,
                "b_sent_at": now if r.state is DeliveryState.SENT else None,
                "b_finished_at": now if terminal else None,
                "b_next": r.next_attempt_at or now,
                "b_clear": r.state in (DeliveryState.DEFERRED, DeliveryState.PENDING),
            }
        )
    conn.execute(_RECORD, params)  # SQLite: executemany in-process is cheap


# One JSON document, not a VALUES list nor arrays: the statement text never changes (compiled
# and planned once whatever the group's size), and json.dumps is far cheaper than dumping
# seven array parameters.
_RECORD_PG = sa.text(
    """
    UPDATE deliveries AS d SET
        state = v.state,
        smtp_code = v.code,
        smtp_reply = v.reply,
        message_id = coalesce(v.mid, d.message_id),
        sent_at = CASE WHEN v.state = 'sent' THEN CAST(:now AS timestamptz) END,
        finished_at = CASE WHEN v.state IN ('pending', 'sending', 'deferred') THEN NULL
                           ELSE CAST(:now AS timestamptz) END,
        next_attempt_at = coalesce(v.next_at, CAST(:now AS timestamptz)),
        handoff_at = CASE WHEN v.clear THEN NULL ELSE d.handoff_at END,
        lease_token = NULL,
        lease_expires_at = NULL
    FROM json_to_recordset(CAST(:rows AS json)) AS v(
        id bigint, state varchar, code smallint, reply text, mid varchar,
        next_at timestamptz, clear boolean
    )
    WHERE d.id = v.id AND d.lease_token = :token
    """
)


def _record_params(batch: Batch, results: Sequence[Result], now: datetime) -> dict[str, Any]:
    """A group's outcomes as one JSON parameter: one statement and one round trip."""
    rows = [
        {
            "id": r.delivery_id,
            "state": r.state.value,
            "code": r.code,
            "reply": (r.reply or "")[:1000] or None,
            "mid": r.message_id,
            "next_at": r.next_attempt_at.isoformat() if r.next_attempt_at else None,
            "clear": r.state in (DeliveryState.DEFERRED, DeliveryState.PENDING),
        }
        for r in results
    ]
    return {"now": now, "token": batch.lease_token, "rows": json.dumps(rows)}


def id_array(ids: Iterable[int]) -> str:
    """A bigint[] literal: one text parameter instead of an array dumped element by element."""
    return "{" + ",".join(str(int(i)) for i in ids) + "}"


# C3 of one group and C2 of the next, in one statement: one round trip, one synchronous commit.
# The CTE and the outer UPDATE touch disjoint rows (the recorded group is not in `targets`).
_SETTLE_PG = sa.text(
    "WITH recorded AS ("
    + _RECORD_PG.text.rstrip()
    + """ RETURNING d.id)
    UPDATE deliveries SET
        handoff_at = CASE WHEN id = ANY(CAST(:group AS bigint[]))
                          THEN CAST(:now AS timestamptz) ELSE handoff_at END,
        lease_expires_at = CASE WHEN :renew THEN CAST(:lease_until AS timestamptz)
                                ELSE lease_expires_at END
    WHERE id = ANY(CAST(:targets AS bigint[]))
      AND lease_token = :token AND state = 'sending'
      AND lease_expires_at > CAST(:now AS timestamptz)
      AND EXISTS (SELECT 1 FROM digests WHERE id = :digest_id AND status = 'sending')
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
    with _writing(conn) as conn:
        if conn.dialect.name != "postgresql":
            _record(conn, batch, results, now)
            return _hand_over(conn, batch, next_ids, lease_seconds, now, renew, targets)
        rows = conn.execute(
            _SETTLE_PG,
            {
                **_record_params(batch, results, now),
                "group": id_array(next_ids),
                "targets": id_array(targets if renew else next_ids),
                "renew": renew,
                "lease_until": now + timedelta(seconds=lease_seconds),
                "digest_id": batch.digest_id,
            },
        ).all()
    return {r[0] for r in rows} & set(next_ids)


def release(batch: Batch, ids: Iterable[int], *, conn: sa.Connection | None = None) -> None:
    """Give back rows that were claimed but never handed over (pause, relay down, budget)."""
    ids = list(ids)
    if not ids:
        return
    with _writing(conn) as conn:
        conn.execute(
            deliveries.update()
            .where(
                deliveries.c.id.in_(ids),
                deliveries.c.lease_token == batch.lease_token,
                deliveries.c.handoff_at.is_(None),
            )
            .values(
                state=DeliveryState.PENDING.value,
                attempts=deliveries.c.attempts - 1,
                lease_token=None,
                lease_expires_at=None,
            )
        )


def release_owners(owners: Sequence[str], *, now: datetime) -> tuple[int, int]:
    """The rows of dead worker processes, before their lease runs out (liveness.py).

    Never handed over: `pending` again, the claim's attempt given back (as `release`). Handed
    over: `uncertain`, as the reconciler makes them after the lease; never re-sent. Returns
    both counts; the caller commits.
    """
    held = sa.and_(
        deliveries.c.digest_id.in_(
            sa.select(digests.c.id)
            .where(digests.c.status.in_([s.value for s in _UNFINISHED]))
            .scalar_subquery()
        ),
        deliveries.c.state == DeliveryState.SENDING.value,
        deliveries.c.lease_owner.in_(list(owners)),
    )
    released = execute_dml(
        deliveries.update()
        .where(held, deliveries.c.handoff_at.is_(None))
        .values(
            state=DeliveryState.PENDING.value,
            attempts=deliveries.c.attempts - 1,
            lease_token=None,
            lease_expires_at=None,
            lease_owner=None,
        )
    )
    uncertain = execute_dml(
        deliveries.update()
        .where(held, deliveries.c.handoff_at.is_not(None))
        .values(
            state=DeliveryState.UNCERTAIN.value,
            lease_token=None,
            lease_expires_at=None,
            lease_owner=None,
            finished_at=now,
            smtp_reply="worker lost between handoff and reply",
        )
    )
    return released.rowcount, uncertain.rowcount


# Rows on the wire belong to digests in these statuses (a cancelled digest may still have some).
_UNFINISHED = (DigestStatus.SENDING, DigestStatus.PAUSED, DigestStatus.CANCELLED)


def cancel_leftovers(digest_id: int, *, conn: sa.Connection | None = None) -> None:
    """Rows given back after a cancel (halted before their MAIL FROM) end cancelled too."""
    cancelled = sa.exists().where(
        digests.c.id == digest_id, digests.c.status == DigestStatus.CANCELLED.value
    )
    with _writing(conn) as conn:
        conn.execute(
            deliveries.update()
            .where(
                deliveries.c.digest_id == digest_id,
                deliveries.c.state == DeliveryState.PENDING.value,
                cancelled,
            )
            .values(state=DeliveryState.CANCELLED.value, finished_at=utcnow())
        )


def reopen(ids: Iterable[int], *, conn: sa.Connection | None = None) -> None:
    """Failed rows that were our own fault (the relay refused us) go back to pending."""
    ids = list(ids)
    if not ids:
        return
    with _writing(conn) as conn:
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


# -- progress and the end ----------------------------------------------------------------------


def digest_progress(digest_id: int) -> dict[str, int]:
    """Counts by state, from the rows (every state present, zero when none)."""
    counts = {state.value: 0 for state in DeliveryState}
    rows = db.session.execute(
        sa.select(deliveries.c.state, sa.func.count())
        .where(deliveries.c.digest_id == digest_id)
        .group_by(deliveries.c.state)
    ).all()
    for state, count in rows:
        counts[str(getattr(state, "value", state))] = int(count)
    return counts


def finish_if_done(
    digest_id: int, *, now: datetime | None = None, conn: sa.Connection | None = None
) -> bool:
    """Sending → finished when no row is pending, sending or deferred: decided by a count."""
    now = now or utcnow()
    still_open = sa.exists().where(
        deliveries.c.digest_id == digest_id,
        deliveries.c.state.in_([s.value for s in OPEN_STATES]),
    )
    with _writing(conn) as conn:
        result = conn.execute(
            digests.update()
            .where(
                digests.c.id == digest_id,
                digests.c.status == DigestStatus.SENDING.value,
                ~still_open,
            )
            .values(status=DigestStatus.FINISHED.value, finished_at=now)
        )
    return bool(result.rowcount)


def next_due(digest_id: int) -> datetime | None:
    """When the earliest pending or deferred row of a digest becomes claimable."""
    return db.session.execute(
        sa.select(sa.func.min(deliveries.c.next_attempt_at)).where(
            deliveries.c.digest_id == digest_id,
            deliveries.c.state.in_([s.value for s in CLAIMABLE]),
        )
    ).scalar_one_or_none()


def digest_state(digest_id: int) -> tuple[DigestStatus | None, str | None]:
    """The digest's status and pause reason as committed now (a read of its own, no session)."""
    with db.engine.connect() as conn:
        row = conn.execute(
            sa.select(digests.c.status, digests.c.pause_reason).where(digests.c.id == digest_id)
        ).first()
    if row is None:
        return None, None
    return DigestStatus(row.status), row.pause_reason
