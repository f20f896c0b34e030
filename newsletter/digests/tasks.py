"""The digests stage's Celery tasks: the weekly edition, scheduled editions coming due, and an
editor's test digest."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from newsletter.digests import editions, preview, schedule
from newsletter.mail.smtp import TemporaryFailure

log = logging.getLogger(__name__)


# Named before the edition functions were (beat entries and queued tasks keep the name).
@shared_task(name="digests.plan_weekly")
def create_weekly() -> None:
    """Once per ISO week, however often it runs: the edition key is unique."""
    edition = editions.create_weekly()
    state = "planned" if edition.created else "already planned"
    log.info("weekly digest %s %s", edition.digest.edition_key, state)


@shared_task(name="digests.start_due")
def start_due() -> None:
    """Every minute: the scheduled special editions whose time has come leave, each once."""
    for digest_id in schedule.start_due():
        log.info("scheduled digest %s released", digest_id)


@shared_task(name="digests.send_test", autoretry_for=(TemporaryFailure,), max_retries=3)
def send_test_digest(
    address: str, regions: list[str], language: str, digest_id: int | None
) -> None:
    """An editor's test: what a reader of these regions would get, to the editor's address."""
    if not preview.send_test(
        address=address, regions=regions, language=language, digest_id=digest_id
    ):
        log.info("test digest to %s not sent: nothing new for %s", address, regions)


@shared_task(name="digests.send_special_test", autoretry_for=(TemporaryFailure,), max_retries=3)
def send_special_test(
    address: str, regions: list[str], language: str, edition: dict[str, Any]
) -> None:
    """An editor's test of a special edition not made yet (preview.special_fields)."""
    if not preview.send_special_test(
        address=address, regions=regions, language=language, edition=edition
    ):
        log.info("special test digest to %s not sent: nothing new for %s", address, regions)
