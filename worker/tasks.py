"""Celery tasks: thin shells that load by id and call one service of newsletter/."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready

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


@shared_task(name="subscriptions.purge_pending")
def purge_pending() -> None:
    log.info("purging pending readers is not configured yet")


@shared_task(name="digests.plan_weekly")
def plan_weekly() -> None:
    """Once per ISO week, however often it runs: the edition key is unique."""
    from newsletter.digests.editions import plan_weekly as plan

    edition = plan()
    state = "planned" if edition.created else "already planned"
    log.info("weekly digest %s %s", edition.digest.edition_key, state)


@shared_task(name="delivery.plan")
def plan_delivery(digest_id: int) -> None:
    from newsletter.delivery import plan

    plan(digest_id)


@shared_task(name="delivery.drain")
def drain_delivery(digest_id: int, batch_key: str | None = None) -> None:
    """Send for a while; when time is up and rows remain, one successor takes over."""
    from newsletter import jobs
    from newsletter.delivery.drain import drain
    from newsletter.models import db

    if drain(digest_id).more:
        jobs.enqueue("delivery.drain", digest_id)
        db.session.commit()


@shared_task(name="delivery.reconcile")
def reconcile() -> None:
    from newsletter.delivery.reconcile import reconcile as run

    run()


@worker_ready.connect
def _reconcile_at_start(sender: object, **_: object) -> None:
    """A restarted worker picks up what a killed one left (expired leases, lost drains)."""
    from celery import current_app as celery

    celery.send_task("delivery.reconcile")
