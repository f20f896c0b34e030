"""Recovery after a kill takes seconds, not the lease: a restarted worker gives back what its
dead predecessor held, and the reconciler counts only the leases of live worker processes."""

from __future__ import annotations

import os
import random
import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from newsletter import ledger
from newsletter.app import create_app
from newsletter.delivery import digest_progress, liveness, plan_deliveries
from newsletter.delivery.reconcile import reconcile
from newsletter.models import Delivery, DeliveryState, db, utcnow
from newsletter.models.delivery import DeliveryWorker
from tests.conftest import _overrides, create_run_database, drop_run_database
from tests.delivery.seed import seed_all, seed_old_digest, seed_readers
from tests.delivery.test_worker_kills import assert_server_agrees_with_ledger, beat, finished
from tests.delivery.workers import Workers, wait_until
from tests.support.smtp import Received, SmtpSink

KILLS = 5
READERS = 1200
RECOVERY_BOUND = 10.0  # seconds from a kill to the next message, with default settings


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink) -> dict[str, Any]:
    # Default sending settings (300 s leases, 60 s tasks, 2 drains, 50 messages/s): only the
    # relay, the broker and the composer double are the test's.
    return {
        "SMTP_URL": smtp_sink.url,
        "CELERY_ALWAYS_EAGER": False,
    }


@pytest.fixture
def workers(app: Flask) -> Iterator[Workers]:
    pool = Workers(app, count=1)
    yield pool
    pool.stop()


class Arrivals:
    """When each message reached the relay, by delivery id (from our Message-ID)."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, int]] = []
        self._lock = threading.Lock()

    def __call__(self, received: Received) -> None:
        match = re.match(r"<d(\d+)\.", received.message["Message-ID"])
        assert match, received.message["Message-ID"]
        with self._lock:
            self.seen.append((time.monotonic(), int(match.group(1))))

    def count(self) -> int:
        with self._lock:
            return len(self.seen)

    def first_after(self, index: int, *, excluding: set[int]) -> float | None:
        with self._lock:
            later = [at for at, delivery_id in self.seen[index:] if delivery_id not in excluding]
        return later[0] if later else None


def handed_over_rows(digest_id: int) -> set[int]:
    """Rows between their handoff and their result: the only ones a dead sender may still
    have on the wire (the relay may read them after the kill)."""
    ids = db.session.execute(
        sa.select(Delivery.id).where(
            Delivery.digest_id == digest_id,
            Delivery.state == DeliveryState.SENDING,
            Delivery.handoff_at.is_not(None),
        )
    )
    found = set(ids.scalars())
    db.session.rollback()
    return found


def test_after_each_sigkill_and_restart_the_relay_gets_the_next_message_within_seconds(
    app: Flask, smtp_sink: SmtpSink, workers: Workers
) -> None:
    arrivals = Arrivals()
    smtp_sink.on_message = arrivals
    seeded = seed_all(READERS)
    plan_deliveries(seeded.digest_id)
    workers.start()
    rng = random.Random(8)
    delays: list[float] = []
    sent_before_kill = 0
    while len(delays) < KILLS:
        # No reconciler runs from the test meanwhile: the restarted worker recovers alone.
        going = sent_before_kill + 100
        assert wait_until(lambda: arrivals.count() >= going, timeout=60), (  # noqa: B023
            digest_progress(seeded.digest_id),
            workers.output(),
        )
        time.sleep(rng.uniform(0, 0.5))  # a random moment of the send, not a synchronisation
        workers.kill(0)
        killed_at = time.monotonic()
        sent_before_kill = arrivals.count()
        on_the_wire = handed_over_rows(seeded.digest_id)
        workers.restart(0)

        def next_message(after: int = sent_before_kill, wire: set[int] = on_the_wire) -> bool:
            return arrivals.first_after(after, excluding=wire) is not None

        assert wait_until(next_message, timeout=60), (
            digest_progress(seeded.digest_id),
            workers.output(),
        )
        arrived = arrivals.first_after(sent_before_kill, excluding=on_the_wire)
        assert arrived is not None
        delays.append(arrived - killed_at)
        sent_before_kill = arrivals.count()
    print(
        f"\nkill -> next message at the relay (s): {', '.join(f'{d:.2f}' for d in delays)};"
        f" max {max(delays):.2f}"
    )
    assert max(delays) < RECOVERY_BOUND, delays

    # Nobody waits for the 300 s leases of the dead processes: the digest finishes well before.
    assert wait_until(lambda: finished(seeded.digest_id), timeout=90, every=beat), (
        digest_progress(seeded.digest_id),
        workers.output(),
    )
    states = assert_server_agrees_with_ledger(app, smtp_sink, seeded.digest_id)
    assert states[DeliveryState.SENT] + states[DeliveryState.UNCERTAIN] == READERS
    in_flight = app.config["SEND_GROUP_SIZE"] * app.config["SEND_GROUPS_IN_FLIGHT"]
    assert states[DeliveryState.UNCERTAIN] <= KILLS * in_flight


@pytest.fixture
def enqueued(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Drain tasks are recorded, not run: the test plays the workers."""
    sent: list[tuple[Any, ...]] = []
    drain_task = app.extensions["celery"].tasks["delivery.drain"]
    monkeypatch.setattr(drain_task, "apply_async", lambda args, kwargs=None: sent.append(args))
    return sent


def _register(worker_id: str, node: str, *, started: float, seen: float) -> None:
    now = utcnow()
    db.session.add(
        DeliveryWorker(
            id=worker_id,
            node=node,
            started_at=now - timedelta(seconds=started),
            seen_at=now - timedelta(seconds=seen),
        )
    )
    db.session.commit()


def _sending_owned_by(digest_id: int, owner: str) -> int:
    count = db.session.execute(
        sa.select(sa.func.count()).where(
            Delivery.digest_id == digest_id,
            Delivery.state == DeliveryState.SENDING,
            Delivery.lease_owner == owner,
        )
    ).scalar_one()
    db.session.rollback()
    return int(count)


def test_a_restarted_node_gives_back_at_once_what_its_dead_predecessor_held(
    app: Flask, enqueued: list[tuple[Any, ...]]
) -> None:
    digest_id = seed_all(30).digest_id
    plan_deliveries(digest_id)
    _register("dead0", "w0@host", started=120, seen=1)
    _register("other", "w1@host", started=120, seen=1)
    lease = app.config["SEND_LEASE_SECONDS"]
    held = ledger.claim(digest_id, size=10, lease_seconds=lease, owner="dead0")
    other = ledger.claim(digest_id, size=5, lease_seconds=lease, owner="other")
    on_the_wire = [row.id for row in held.rows[:4]]
    assert ledger.hand_over(held, on_the_wire, lease_seconds=lease) == set(on_the_wire)

    released, uncertain = liveness.release_predecessors("w0@host", booted_at=utcnow())

    assert (released, uncertain) == (6, 4)
    rows = {
        r.id: r
        for r in db.session.execute(sa.select(Delivery).where(Delivery.digest_id == digest_id))
        .scalars()
        .all()
    }
    for row in held.rows:
        if row.id in on_the_wire:  # may have reached the relay: never re-sent by the service
            assert rows[row.id].state is DeliveryState.UNCERTAIN
        else:  # certainly not sent: claimable again, the attempt given back
            assert rows[row.id].state is DeliveryState.PENDING
            assert rows[row.id].attempts == 0 and rows[row.id].lease_token is None
    # Another node's process is alive and keeps its rows; the dead process is forgotten.
    assert all(rows[row.id].state is DeliveryState.SENDING for row in other.rows)
    assert [w.id for w in db.session.execute(sa.select(DeliveryWorker)).scalars()] == ["other"]


def test_the_reconciler_replaces_a_silent_workers_drain_while_its_rows_wait_for_the_lease(
    app: Flask, enqueued: list[tuple[Any, ...]]
) -> None:
    digest_id = seed_all(30).digest_id
    plan_deliveries(digest_id)
    enqueued.clear()
    ttl = app.config["SEND_WORKER_TTL_SECONDS"]
    lease = app.config["SEND_LEASE_SECONDS"]
    _register("alive", "w0@host", started=120, seen=0)
    _register("killed", "w1@host", started=120, seen=ttl + 1)
    ledger.claim(digest_id, size=5, lease_seconds=lease, owner="alive")
    ledger.claim(digest_id, size=5, lease_seconds=lease, owner="killed")

    report = reconcile()

    # Two drains wanted; the live worker is one; the silent one's slot is free again.
    assert report.drains == app.config["SEND_PARALLEL"] - 1 == 1
    assert enqueued == [(digest_id,)]
    # Its rows are not taken from it before their lease (it may only be slow).
    assert _sending_owned_by(digest_id, "killed") == 5


def test_migration_0005_adds_lease_owners_and_removes_them_on_downgrade(
    backend: str, tmp_path: Path
) -> None:
    from flask_migrate import downgrade, upgrade

    url = (
        f"sqlite:///{tmp_path / 'old.sqlite'}"
        if backend == "sqlite"
        else create_run_database(f"mig5{os.getpid()}")
    )
    app = create_app(_overrides(url), instance_path=tmp_path)
    try:
        with app.app_context():
            upgrade(revision="0004")
            seed_readers(2)
            digest_id = seed_old_digest()
            db.session.execute(
                sa.text(
                    "INSERT INTO deliveries (digest_id, subscriber_id, state, attempts,"
                    " next_attempt_at, created_at) SELECT :d, id, 'pending', 0,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM subscribers"
                ),
                {"d": digest_id},
            )
            db.session.commit()

            upgrade()
            owners = db.session.execute(sa.select(Delivery.lease_owner)).scalars().all()
            assert owners == [None, None]
            assert db.session.execute(sa.select(sa.func.count(DeliveryWorker.id))).scalar() == 0
            db.session.rollback()  # no read lock left for the downgrade's ALTER TABLE to wait on

            downgrade(revision="0004")
            inspector = sa.inspect(db.engine)
            assert "lease_owner" not in {c["name"] for c in inspector.get_columns("deliveries")}
            assert "delivery_workers" not in inspector.get_table_names()
            count = db.session.execute(sa.text("SELECT count(*) FROM deliveries")).scalar()
            assert count == 2
            db.session.remove()
            db.engine.dispose()
    finally:
        if backend == "postgresql":
            drop_run_database(url)
