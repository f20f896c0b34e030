"""Which worker process holds a lease, and whether it still lives.

A worker process that sends records itself in `delivery_workers` (a random id and its Celery
node name) and beats from a thread every third of SEND_WORKER_TTL_SECONDS; its claims name it
in `deliveries.lease_owner`. Two uses, so that a killed worker delays nobody by its lease:

* the reconciler counts as drains at work only the leases of processes seen within the TTL:
  the slot of a SIGKILLed drain frees itself in seconds, and the rows nobody holds are drained
  again while the dead process's own rows wait for their lease;
* a restarted worker gives back at start the rows its node's earlier processes held (Celery
  node names are unique among running workers, and a restart keeps its name): rows never
  handed over are `pending` again at once, rows handed over become `uncertain`, exactly what
  the reconciler would do once their lease ran out.

Only the worker processes have an identity: a drain run in-process (tests, the benchmark)
claims without an owner, and its leases count as before, until they expire.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask

from newsletter import ledger
from newsletter.models import db, utcnow
from newsletter.models.base import execute_dml
from newsletter.models.delivery import DeliveryWorker

log = logging.getLogger("newsletter.delivery")
workers = DeliveryWorker.__table__
EXTENSION = "delivery.liveness"


@dataclass
class Liveness:
    """This process's name on the leases it takes, kept alive by a heartbeat thread."""

    engine: sa.Engine
    node: str
    every: float
    id: str = field(default_factory=lambda: secrets.token_hex(8))
    pid: int = field(default_factory=os.getpid)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                workers.insert().values(id=self.id, node=self.node, started_at=now, seen_at=now)
            )
        self._thread = threading.Thread(target=self._beat, name="liveness", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.every):
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        workers.update().where(workers.c.id == self.id).values(seen_at=utcnow())
                    )
            except sa.exc.SQLAlchemyError as exc:
                # A missed beat only lets the reconciler add a drain; the next one may pass.
                log.warning("delivery.heartbeat failed: %s", str(exc).splitlines()[0])

    def stop(self) -> None:
        """A clean shutdown: its leases were released or recorded by the drain that ended."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            with self.engine.begin() as conn:
                conn.execute(workers.delete().where(workers.c.id == self.id))
        except sa.exc.SQLAlchemyError as exc:
            log.warning("delivery.worker not unregistered: %s", str(exc).splitlines()[0])


def of_process(app: Flask, node: str) -> Liveness:
    """This process's identity, registered on first use (a forked child gets its own)."""
    current: Liveness | None = app.extensions.get(EXTENSION)
    if current is None or current.pid != os.getpid():
        ttl = app.config["SEND_WORKER_TTL_SECONDS"]
        current = Liveness(db.engine, node, every=max(0.5, ttl / 3))
        current.start()
        app.extensions[EXTENSION] = current
    return current


def stop_process(app: Flask) -> None:
    current: Liveness | None = app.extensions.pop(EXTENSION, None)
    if current is not None and current.pid == os.getpid():
        current.stop()


def alive(now: datetime, ttl: float) -> sa.ScalarSelect[str]:
    """Ids of the processes that beat within the TTL."""
    return (
        sa.select(workers.c.id)
        .where(workers.c.seen_at >= now - timedelta(seconds=ttl))
        .scalar_subquery()
    )


def release_predecessors(node: str, *, booted_at: datetime) -> tuple[int, int]:
    """At a worker's start: the rows held by processes of the same node started before it.

    Returns (rows pending again, rows uncertain). The processes are forgotten.
    """
    dead = (
        db.session.execute(
            sa.select(workers.c.id).where(workers.c.node == node, workers.c.started_at < booted_at)
        )
        .scalars()
        .all()
    )
    db.session.rollback()
    if not dead:
        return 0, 0
    recovered = ledger.release_owners(dead, now=utcnow())
    db.session.execute(workers.delete().where(workers.c.id.in_(dead)))
    db.session.commit()
    log.info(
        "delivery.restarted node=%s predecessors=%d pending_again=%d uncertain=%d",
        node,
        len(dead),
        recovered.pending,
        recovered.uncertain,
    )
    return recovered.pending, recovered.uncertain


def forget_stale(now: datetime, *, older_than: float) -> int:
    """Processes silent for longer than any lease: whatever they held has been reclaimed."""
    return execute_dml(
        workers.delete().where(workers.c.seen_at < now - timedelta(seconds=older_than))
    ).rowcount
