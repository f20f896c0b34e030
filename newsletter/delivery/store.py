"""The ledger as the send pipeline sees it: a narrow port, and its implementation over SQL.

The pipeline makes six kinds of ledger writes and reads, each one commit (docs/delivery.md,
"Commit points"). `SqlLedger` makes them with newsletter.ledger on the sender's two
connections: one whose commits wait for the disk (the handoff, C2: what stops a second send)
and, on PostgreSQL, one whose commits do not (results alone, C3: a lost one leaves the row
`sending` with its handoff marker, which the reconciler makes `uncertain`, never re-sent).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa

from newsletter import ledger
from newsletter.ledger import Batch, Result
from newsletter.models import DigestStatus, db


class LedgerStore(Protocol):
    """The ledger calls of the send pipeline; every write is fenced on the batch's token."""

    # True: `settle` may run in the pipeline's writer thread (PostgreSQL). SQLite's
    # connections stay in the thread that opened them.
    writer_thread: bool

    def settle(
        self,
        batch: Batch,
        results: Sequence[Result],
        next_ids: Sequence[int],
        *,
        lease_seconds: float,
        renew: bool,
        rest: Sequence[int],
    ) -> set[int]:
        """C3 of a landed group and C2 of the next, one commit; the next group's rows still
        ours (only those are sent)."""
        ...

    def record(self, batch: Batch, results: Sequence[Result], *, durable: bool = False) -> None:
        """Results outside a handoff (skipped rows; a group the relay never took). `durable`:
        the commit waits for the disk, as a handoff's does."""
        ...

    def release(self, batch: Batch, ids: Sequence[int]) -> None:
        """Rows claimed and never handed over: back to pending."""
        ...

    def postpone(self, batch: Batch, until: Sequence[tuple[int, datetime]]) -> None:
        """Rows held back by the send rate, never handed over: deferred to their times."""
        ...

    def cancel_leftovers(self, digest_id: int) -> None:
        """After a cancel, the rows given back end cancelled."""
        ...

    def reopen(self, ids: Sequence[int]) -> None:
        """Failed rows that were the relay's fault: back to pending."""
        ...

    def digest_state(self, digest_id: int) -> tuple[DigestStatus | None, str | None]:
        """The digest's status and pause reason as committed now."""
        ...


@dataclass
class SqlLedger:
    """LedgerStore over newsletter.ledger. Without connections (None), each call takes one
    from the pool."""

    conn: sa.Connection | None = None  # handoffs, releases: synchronous commits
    fast: sa.Connection | None = None  # results alone, skips: no wait for the WAL flush
    writer_thread: bool = False

    def settle(
        self,
        batch: Batch,
        results: Sequence[Result],
        next_ids: Sequence[int],
        *,
        lease_seconds: float,
        renew: bool,
        rest: Sequence[int],
    ) -> set[int]:
        # With a handoff in it the commit must be durable; the batch's last C3 alone need not.
        return ledger.settle(
            batch,
            results,
            next_ids,
            lease_seconds=lease_seconds,
            renew=renew,
            rest=rest,
            conn=self.conn if next_ids else self.fast,
        )

    def record(self, batch: Batch, results: Sequence[Result], *, durable: bool = False) -> None:
        # Durable: a connection of its own from the pool, whose commits wait for the disk.
        ledger.record(batch, results, conn=None if durable else self.fast)

    def release(self, batch: Batch, ids: Sequence[int]) -> None:
        ledger.release(batch, ids, conn=self.conn)

    def cancel_leftovers(self, digest_id: int) -> None:
        ledger.cancel_leftovers(digest_id, conn=self.conn)

    def postpone(self, batch: Batch, until: Sequence[tuple[int, datetime]]) -> None:
        # From the main thread: on PostgreSQL the writer thread may hold `conn`.
        ledger.postpone(batch, until, conn=None if self.writer_thread else self.conn)

    def reopen(self, ids: Sequence[int]) -> None:
        ledger.reopen(ids)

    def digest_state(self, digest_id: int) -> tuple[DigestStatus | None, str | None]:
        return ledger.digest_state(digest_id)


@contextmanager
def sql_ledger() -> Iterator[SqlLedger]:
    """The sender's connections for one batch."""
    with db.engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            yield SqlLedger(conn, conn)
            return
        # Each ledger write here is one statement: autocommit saves BEGIN's round trip.
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        with db.engine.connect() as other:
            fast = other.execution_options(isolation_level="AUTOCOMMIT")
            fast.exec_driver_sql("SET synchronous_commit TO off")
            try:
                yield SqlLedger(conn, fast, writer_thread=True)
            finally:
                fast.exec_driver_sql("RESET synchronous_commit")
