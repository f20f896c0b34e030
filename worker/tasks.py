"""Celery tasks: thin shells that load by id and call one service of newsletter/."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from celery.signals import worker_init, worker_process_shutdown, worker_ready, worker_shutdown
from flask import Flask

from newsletter.mail.smtp import TemporaryFailure
from newsletter.models.base import utcnow

log = logging.getLogger(__name__)


@shared_task(name="ingest.poll_feeds")
def poll_feeds() -> None:
    """One poll task per active feed: a slow or broken feed holds up no other."""
    from newsletter.ingest.polling import enqueue_polls

    log.info("polling %d feeds", enqueue_polls())


@shared_task(name="ingest.poll_feed")
def poll_feed(feed_id: int) -> None:
    from newsletter.ingest.polling import poll_feed as poll

    poll(feed_id)


@shared_task(name="ingest.import_page")
def import_page(import_id: int) -> None:
    """An editor's page import: fetched and read here, not in the web request."""
    from newsletter.ingest.page import run_import

    run_import(import_id)


@shared_task(name="subscriptions.purge_pending")
def purge_pending() -> None:
    from flask import current_app

    from newsletter.subscriptions.service import purge_pending as purge

    purged = purge(older_than_days=current_app.config["PENDING_PURGE_DAYS"])
    log.info("purged %d unconfirmed readers", purged)


# Reader emails: a lost relay is retried with backoff; a refusal (5xx) rises and stays visible.
_READER_MAIL = {
    "autoretry_for": (TemporaryFailure,),
    "retry_backoff": 30,
    "retry_backoff_max": 1800,
    "max_retries": 8,
}


@shared_task(name="subscriptions.send_confirmation", **_READER_MAIL)
def send_confirmation(subscriber_id: int) -> None:
    from newsletter.subscriptions import emails

    emails.send_confirmation(subscriber_id)


@shared_task(name="subscriptions.send_already_subscribed", **_READER_MAIL)
def send_already_subscribed(subscriber_id: int) -> None:
    from newsletter.subscriptions import emails

    emails.send_already_subscribed(subscriber_id)


@shared_task(name="subscriptions.send_erase_link", **_READER_MAIL)
def send_erase_link(subscriber_id: int) -> None:
    from newsletter.subscriptions import emails

    emails.send_erase_link(subscriber_id)


@shared_task(name="subscriptions.send_manage_link", **_READER_MAIL)
def send_manage_link(subscriber_id: int) -> None:
    from newsletter.subscriptions import emails

    emails.send_manage_link(subscriber_id)


@shared_task(name="subscriptions.send_confirmations", **_READER_MAIL)
def send_confirmations(subscriber_ids: list[int]) -> None:
    """One task per chunk of imported readers, not one per reader."""
    from newsletter.subscriptions import emails

    for subscriber_id in subscriber_ids:
        emails.send_confirmation(subscriber_id, unsent_only=True)


@shared_task(name="digests.plan_weekly")
def plan_weekly() -> None:
    """Once per ISO week, however often it runs: the edition key is unique."""
    from newsletter.digests.editions import plan_weekly as plan

    edition = plan()
    state = "planned" if edition.created else "already planned"
    log.info("weekly digest %s %s", edition.digest.edition_key, state)


@shared_task(name="digests.send_test", autoretry_for=(TemporaryFailure,), max_retries=3)
def send_test_digest(
    address: str, regions: list[str], language: str, digest_id: int | None
) -> None:
    """An editor's test: what a reader of these regions would get, to the editor's address."""
    from newsletter.digests.preview import send_test

    if not send_test(address=address, regions=regions, language=language, digest_id=digest_id):
        log.info("test digest to %s not sent: nothing new for %s", address, regions)


@shared_task(name="delivery.plan")
def plan_delivery(digest_id: int) -> None:
    from newsletter.delivery import plan

    plan(digest_id)


@shared_task(name="delivery.drain", bind=True)
def drain_delivery(self: Task, digest_id: int, batch_key: str | None = None) -> None:
    """Send for a while; when time is up and rows remain, one successor takes over."""
    from flask import current_app

    from newsletter import jobs
    from newsletter.delivery import liveness
    from newsletter.delivery.drain import drain
    from newsletter.models import db

    owner = None
    if not self.request.is_eager and self.request.hostname:
        # In a worker process: its leases name it, so its death is seen in seconds.
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        owner = liveness.of_process(app, self.request.hostname).id
    if drain(digest_id, owner=owner).more:
        jobs.enqueue("delivery.drain", digest_id)
        db.session.commit()


@shared_task(name="delivery.reconcile")
def reconcile() -> None:
    from newsletter.delivery.reconcile import reconcile as run

    run()


def connect_worker_signals(app: Flask) -> None:
    """What a worker does at start and at shutdown, for the Flask app it runs."""

    def booted(sender: Any, **_: object) -> None:
        app.extensions["delivery.booted_at"] = utcnow()  # before any pool process exists

    def ready(sender: Any, **_: object) -> None:
        """A restarted worker gives back what its killed predecessor held, then picks up
        what any killed worker left (expired leases, lost drains)."""
        from newsletter.delivery import liveness

        with app.app_context():
            booted_at = app.extensions.get("delivery.booted_at", utcnow())
            liveness.release_predecessors(sender.hostname, booted_at=booted_at)
        sender.app.send_task("delivery.reconcile")

    def process_done(**_: object) -> None:
        from newsletter.delivery import liveness

        with app.app_context():
            liveness.stop_process(app)

    worker_init.connect(booted, weak=False)
    worker_ready.connect(ready, weak=False)
    worker_process_shutdown.connect(process_done, weak=False)
    worker_shutdown.connect(process_done, weak=False)
