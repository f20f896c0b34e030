"""The ingest stage's Celery tasks: thin shells over polling and page import."""

from __future__ import annotations

import logging

from celery import shared_task

from newsletter.ingest import page, polling

log = logging.getLogger(__name__)


@shared_task(name="ingest.poll_feeds")
def poll_feeds() -> None:
    """One poll task per active feed: a slow or broken feed holds up no other."""
    log.info("polling %d feeds", polling.enqueue_polls())


@shared_task(name="ingest.poll_feed")
def poll_feed(feed_id: int) -> None:
    polling.poll_feed(feed_id)


@shared_task(name="ingest.import_page")
def import_page(import_id: int) -> None:
    """An editor's page import: fetched and read here, not in the web request."""
    page.run_import(import_id)
