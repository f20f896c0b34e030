"""What the ledger's transitions share: the tables, the claimed batch, results, transactions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from newsletter.models import OPEN_STATES, Delivery, DeliveryState, Digest, DigestStatus, db
from newsletter.models.base import UTCDateTime

deliveries = Delivery.__table__
digests = Digest.__table__

# The sets of states every rule is written with (the values, for SQL).
CLAIMABLE = (DeliveryState.PENDING, DeliveryState.DEFERRED)
# Rows on the wire belong to digests in these statuses (a cancelled digest may still have some):
# through them a query on rows being sent is one probe per digest into the claim index.
UNFINISHED = (DigestStatus.SENDING, DigestStatus.PAUSED, DigestStatus.CANCELLED)
# Digests whose rows may still be cancelled for a reader who leaves.
OPEN_DIGESTS = (DigestStatus.PLANNED, DigestStatus.SENDING, DigestStatus.PAUSED)


def values(states: Iterable[DeliveryState | DigestStatus]) -> list[str]:
    return [state.value for state in states]


def is_terminal(state: DeliveryState) -> bool:
    """The one rule: a row in any other state than these is done, and has a finished_at."""
    return state not in OPEN_STATES


def clears_handoff(state: DeliveryState) -> bool:
    """A row going back to the queue was not delivered: its handoff marker goes."""
    return state in CLAIMABLE


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


@dataclass(frozen=True)
class Result:
    delivery_id: int
    state: DeliveryState
    code: int | None = None
    reply: str | None = None
    message_id: str | None = None
    next_attempt_at: datetime | None = None
    sections: int | None = None  # the letter's sections (clicks/sections.py), once it left


def at(value: datetime) -> sa.BindParameter[datetime]:
    """A timestamp parameter, stored in UTC on both databases."""
    return sa.bindparam(None, value, type_=UTCDateTime())


def lease_until(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)


def id_array(ids: Iterable[int]) -> str:
    """A bigint[] literal: one text parameter instead of an array dumped element by element."""
    return "{" + ",".join(str(int(i)) for i in ids) + "}"


def digest_is(digest_id: int, *statuses: DigestStatus) -> sa.ColumnElement[bool]:
    """The fence every write of a sender carries: the digest is (still) in one of these."""
    return sa.exists().where(digests.c.id == digest_id, digests.c.status.in_(values(statuses)))


@contextmanager
def writing(conn: sa.Connection | None) -> Iterator[sa.Connection]:
    """One short write transaction, on the sender's connection when it has one.

    SQLite takes its write lock first (BEGIN IMMEDIATE) rather than fail to upgrade a read
    lock later. Reusing the sender's connection saves a pool checkout (and its pre-ping).
    """
    if conn is None:
        with db.engine.connect() as fresh, writing(fresh) as same:
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


# -- the two ways a row held by a sender ends its lease without a reply -----------------------


def give_back() -> dict[str, object]:
    """Claimed and never handed over: provably not sent. Pending again, and the claim's attempt
    returned: `attempts` counts the times a row was handed to the relay, so a pause, a dead
    worker or an expired lease never brings a reader closer to expiry."""
    return {
        "state": DeliveryState.PENDING.value,
        "attempts": deliveries.c.attempts - 1,
        "lease_token": None,
        "lease_expires_at": None,
        "lease_owner": None,
    }


LOST_REPLY = "worker lost between handoff and reply"


def lose(now: datetime) -> dict[str, object]:
    """Handed over and no reply recorded: it may have reached the relay. Never re-sent."""
    return {
        "state": DeliveryState.UNCERTAIN.value,
        "lease_token": None,
        "lease_expires_at": None,
        "lease_owner": None,
        "finished_at": now,
        "smtp_reply": LOST_REPLY,
    }
