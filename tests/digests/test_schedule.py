"""A special edition scheduled for a time waits, planned, and leaves once when it is due."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from newsletter import ledger
from newsletter.delivery.plan_deliveries import plan_deliveries
from newsletter.delivery.reconcile import reconcile
from newsletter.digests.editions import EditionError, create_special
from newsletter.digests.schedule import start_due
from newsletter.models import Digest, DigestStatus, db, utcnow
from tests.delivery.seed import (
    WINDOW_END,
    WINDOW_START,
    delivery_count,
    reloaded_digest,
    seed_articles,
    seed_readers,
)
from tests.support.smtp import SmtpSink


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink) -> dict[str, Any]:
    return {"SMTP_URL": smtp_sink.url}


def scheduled(now: datetime, *, in_minutes: int = 30) -> int:
    seed_articles()
    seed_readers(3)
    edition = create_special(
        since=WINDOW_START,
        until=WINDOW_END,
        send_at=now + timedelta(minutes=in_minutes),
        now=now,
    )
    return edition.digest.id


def test_a_scheduled_edition_does_not_leave_before_its_time(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    now = utcnow()
    digest_id = scheduled(now)

    assert start_due(now=now + timedelta(minutes=29)) == []
    plan_deliveries(digest_id)  # a stray plan task: refused until released
    reconcile(now=now + timedelta(minutes=29))

    assert reloaded_digest(digest_id).status is DigestStatus.PLANNED
    assert reloaded_digest(digest_id).send_at == now + timedelta(minutes=30)
    assert delivery_count(digest_id) == 0
    assert smtp_sink.messages == []


def test_a_scheduled_edition_leaves_once_when_due_however_often_the_beat_runs(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    now = utcnow() - timedelta(minutes=31)
    digest_id = scheduled(now)
    task = app.extensions["celery"].tasks["digests.start_due"]

    task.apply()
    task.apply()

    assert reloaded_digest(digest_id).status is DigestStatus.FINISHED
    assert delivery_count(digest_id) == 3
    assert len(smtp_sink.messages) == 3
    assert start_due() == []


def test_two_workers_releasing_at_the_same_moment_release_the_edition_once(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    now = utcnow() - timedelta(minutes=31)
    digest_id = scheduled(now)
    barrier = threading.Barrier(2)
    won: list[bool] = []

    def release() -> None:
        with app.app_context():
            barrier.wait()
            won.append(ledger.release_scheduled(digest_id, now=utcnow()))
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=release) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(won) == [False, True]
    assert start_due() == []  # released already: no second plan


def test_an_edition_cancelled_before_its_time_never_leaves(app: Flask, smtp_sink: SmtpSink) -> None:
    now = utcnow() - timedelta(minutes=31)
    digest_id = scheduled(now)

    assert ledger.cancel(digest_id) == 0
    db.session.commit()
    assert start_due() == []
    plan_deliveries(digest_id)
    reconcile()

    assert reloaded_digest(digest_id).status is DigestStatus.CANCELLED
    assert delivery_count(digest_id) == 0
    assert smtp_sink.messages == []


def test_a_scheduled_edition_without_an_end_date_covers_news_until_it_leaves(app: Flask) -> None:
    now = datetime(2026, 11, 30, 7, tzinfo=UTC)
    send_at = now + timedelta(hours=5)

    made = create_special(since=now - timedelta(days=1), send_at=send_at, now=now).digest

    assert made.window_end == send_at


@pytest.mark.parametrize(
    ("send_at", "reason"),
    [
        (datetime(2026, 11, 30, 6, tzinfo=UTC), "in the future"),
        (datetime(2027, 12, 30, 6, tzinfo=UTC), "within 366 days"),
        (datetime(2026, 12, 30, 6), "UTC offset"),
    ],
)
def test_a_time_past_too_far_or_without_an_offset_is_refused(
    app: Flask, send_at: datetime, reason: str
) -> None:
    with pytest.raises(EditionError, match=reason):
        create_special(send_at=send_at, now=datetime(2026, 11, 30, 7, tzinfo=UTC))
    assert db.session.execute(db.select(Digest)).first() is None
