"""The subscriptions stage's Celery tasks: the readers' emails and the purge of the unconfirmed."""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app

from newsletter.mail.smtp import TemporaryFailure
from newsletter.subscriptions import emails, service

log = logging.getLogger(__name__)

# Reader emails: a lost relay is retried with backoff; a refusal (5xx) rises and stays visible.
_READER_MAIL = {
    "autoretry_for": (TemporaryFailure,),
    "retry_backoff": 30,
    "retry_backoff_max": 1800,
    "max_retries": 8,
}


@shared_task(name="subscriptions.purge_pending")
def purge_pending() -> None:
    purged = service.purge_pending(older_than_days=current_app.config["PENDING_PURGE_DAYS"])
    log.info("purged %d unconfirmed readers", purged)


@shared_task(name="subscriptions.send_confirmation", **_READER_MAIL)
def send_confirmation(subscriber_id: int) -> None:
    emails.send_confirmation(subscriber_id)


@shared_task(name="subscriptions.send_already_subscribed", **_READER_MAIL)
def send_already_subscribed(subscriber_id: int) -> None:
    emails.send_already_subscribed(subscriber_id)


@shared_task(name="subscriptions.send_erase_link", **_READER_MAIL)
def send_erase_link(subscriber_id: int) -> None:
    emails.send_erase_link(subscriber_id)


@shared_task(name="subscriptions.send_manage_link", **_READER_MAIL)
def send_manage_link(subscriber_id: int) -> None:
    emails.send_manage_link(subscriber_id)


@shared_task(name="subscriptions.send_confirmations", **_READER_MAIL)
def send_confirmations(subscriber_ids: list[int]) -> None:
    """One task per chunk of imported readers, not one per reader."""
    for subscriber_id in subscriber_ids:
        emails.send_confirmation(subscriber_id, unsent_only=True)
