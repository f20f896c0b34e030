"""Celery tasks: thin shells that load by id and call one service of newsletter/."""

from __future__ import annotations

import logging

from celery import shared_task

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


@shared_task(name="delivery.reconcile")
def reconcile() -> None:
    log.info("delivery reconciliation is not configured yet")
