"""The delivery's Celery tasks, thin shells over plan_deliveries, drain and reconcile; and what
a worker process does for sending when it starts and when it stops.

Task names are part of the queue's contents and of beat's schedule: they never change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import Task, shared_task
from celery.signals import worker_init, worker_process_shutdown, worker_ready, worker_shutdown
from flask import Flask, current_app

from newsletter import jobs
from newsletter.delivery import liveness, process_stream
from newsletter.delivery.drain import drain
from newsletter.delivery.plan_deliveries import plan_deliveries
from newsletter.delivery.reconcile import reconcile
from newsletter.delivery.send import Composer
from newsletter.digests.compose import DigestComposer
from newsletter.models import db, utcnow

COMPOSER = "delivery.composer"
BOOTED_AT = "delivery.booted_at"


def use_composer(app: Flask, load: Callable[[int], Composer]) -> None:
    """Build the messages of this app's drain tasks with `load(digest_id)` instead of the
    digests' DigestComposer: the worker processes of the kill tests send a lighter double."""
    app.extensions[COMPOSER] = load


@shared_task(name="delivery.plan")
def plan_task(digest_id: int) -> None:
    plan_deliveries(digest_id)


@shared_task(name="delivery.drain", bind=True)
def drain_task(self: Task, digest_id: int, batch_key: str | None = None) -> None:
    """Send for a while; when time is up and rows remain, one successor takes over."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    owner = None
    if not self.request.is_eager and self.request.hostname:
        # In a worker process: its leases name it, so its death is seen in seconds.
        owner = liveness.of_process(app, self.request.hostname).id
    load = app.extensions.get(COMPOSER, DigestComposer.load)
    if drain(digest_id, load_composer=load, owner=owner).more:
        jobs.enqueue("delivery.drain", digest_id)
        db.session.commit()


@shared_task(name="delivery.reconcile")
def reconcile_task() -> None:
    reconcile()


def connect_worker_signals(app: Flask) -> None:
    """What a worker does at start and at shutdown, for the Flask app it runs."""

    def booted(sender: Any, **_: object) -> None:
        app.extensions[BOOTED_AT] = utcnow()  # before any pool process exists

    def ready(sender: Any, **_: object) -> None:
        """A restarted worker gives back what its killed predecessor held, then picks up
        what any killed worker left (expired leases, lost drains)."""
        with app.app_context():
            booted_at = app.extensions.get(BOOTED_AT, utcnow())
            liveness.release_predecessors(sender.hostname, booted_at=booted_at)
        sender.app.send_task("delivery.reconcile")

    def process_done(**_: object) -> None:
        """The process's SMTP connection says QUIT; its registration goes."""
        with app.app_context():
            try:
                process_stream.close(app)
            finally:
                liveness.stop_process(app)

    worker_init.connect(booted, weak=False)
    worker_ready.connect(ready, weak=False)
    worker_process_shutdown.connect(process_done, weak=False)
    worker_shutdown.connect(process_done, weak=False)
