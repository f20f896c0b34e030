"""A special edition scheduled for a time, in the console: listed and shown with the time it
leaves (newsroom's clock, editor's language), cancelled before it leaves, or sent now through
the same release and plan as the beat's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from newsletter.admin.audit import AuditAction
from newsletter.digests.editions import create_special
from newsletter.digests.schedule import start_due
from newsletter.models import DigestStatus, db, utcnow
from newsletter.models.editor import AuditEntry
from tests.admin.test_editions import csrf_in, flashes, shown_controls, visible
from tests.delivery.seed import (
    WINDOW_END,
    WINDOW_START,
    delivery_count,
    reloaded_digest,
    seed_articles,
    seed_readers,
)
from tests.support.editors import log_in_editor
from tests.support.smtp import SmtpSink

EDITOR = "chef@revue-internationale.example"
# 13:00 UTC on 3 December is 14:00 in Paris.
DECEMBER_3 = datetime(2026, 12, 3, 13, tzinfo=UTC)


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink) -> dict[str, Any]:
    return {"SMTP_URL": smtp_sink.url, "SEND_RATE_PER_SECOND": 0.0}


@pytest.fixture
def editor(client: FlaskClient) -> FlaskClient:
    return log_in_editor(client, EDITOR)


def scheduled(send_at: datetime, *, until: datetime | None = WINDOW_END) -> int:
    """A special edition for three readers, waiting for `send_at`."""
    seed_articles()
    seed_readers(3)
    now = min(utcnow(), send_at - timedelta(hours=1))
    edition = create_special(since=WINDOW_START, until=until, send_at=send_at, now=now)
    return edition.digest.id


def send_now(client: FlaskClient, digest_id: int) -> Any:
    page = client.get(f"/admin/digests/{digest_id}").get_data(as_text=True)
    action = f"/admin/digests/{digest_id}/send-now"
    return client.post(action, data={"csrf_token": csrf_in(page, action)})


def test_a_scheduled_edition_is_listed_and_shown_with_the_day_and_time_it_leaves_in_paris(
    app: Flask, editor: FlaskClient
) -> None:
    digest_id = scheduled(DECEMBER_3)

    listed = visible(editor.get("/admin/digests").get_data(as_text=True))
    page = editor.get(f"/admin/digests/{digest_id}").get_data(as_text=True)

    assert "Programmée pour le 3 décembre 2026 à 14:00" in listed
    assert "Programmée pour le 3 décembre 2026 à 14:00" in visible(page)
    assert "Envoyer maintenant" in visible(page)
    assert shown_controls(page) == {"cancel"}


def test_an_editor_reading_in_english_sees_the_time_in_english_on_the_paris_clock(
    app: Flask, editor: FlaskClient
) -> None:
    digest_id = scheduled(DECEMBER_3)
    english = {"Accept-Language": "en"}

    listed = visible(editor.get("/admin/digests", headers=english).get_data(as_text=True))
    page = visible(
        editor.get(f"/admin/digests/{digest_id}", headers=english).get_data(as_text=True)
    )

    for text in (listed, page):
        # Babel's English puts a narrow no-break space before PM.
        assert "Scheduled for December 3, 2026 at 2:00" in text
        assert "PM" in text.split("Scheduled for December 3, 2026 at 2:00", 1)[1][:4]
    assert "Send now" in page


def test_send_now_releases_the_edition_before_its_time_and_it_leaves_once(
    app: Flask, editor: FlaskClient, smtp_sink: SmtpSink
) -> None:
    send_at = utcnow() + timedelta(hours=2)
    digest_id = scheduled(send_at)

    sent = send_now(editor, digest_id)

    assert sent.status_code == 303
    assert sent.headers["Location"].endswith(f"/admin/digests/{digest_id}")
    page = editor.get(sent.headers["Location"]).get_data(as_text=True)
    assert flashes(page) == ["L’édition part maintenant, sans attendre l’heure prévue."]
    assert "Programmée pour" not in visible(page) and "Envoyer maintenant" not in visible(page)
    assert reloaded_digest(digest_id).status is DigestStatus.FINISHED
    assert delivery_count(digest_id) == 3 and len(smtp_sink.messages) == 3
    # Its time comes: the beat finds nothing to release, nobody gets it twice.
    assert start_due(now=send_at + timedelta(minutes=1)) == []
    assert len(smtp_sink.messages) == 3
    (entry,) = db.session.execute(
        db.select(AuditEntry).where(AuditEntry.action == AuditAction.EDITION_SENT_NOW.value)
    ).scalars()
    assert entry.editor_email == EDITOR and f"édition {digest_id}" in entry.detail


def test_sent_now_an_edition_covers_the_news_until_it_leaves_not_until_its_planned_time(
    app: Flask, editor: FlaskClient
) -> None:
    send_at = utcnow() + timedelta(hours=2)
    digest_id = scheduled(send_at, until=None)
    assert reloaded_digest(digest_id).window_end == send_at

    before = utcnow()
    send_now(editor, digest_id)

    assert before <= reloaded_digest(digest_id).window_end <= utcnow()


def test_send_now_twice_or_on_an_edition_no_longer_waiting_sends_nothing_more(
    app: Flask, editor: FlaskClient, smtp_sink: SmtpSink
) -> None:
    digest_id = scheduled(utcnow() + timedelta(hours=2))
    page = editor.get(f"/admin/digests/{digest_id}").get_data(as_text=True)
    action = f"/admin/digests/{digest_id}/send-now"
    token = csrf_in(page, action)

    editor.post(action, data={"csrf_token": token}, follow_redirects=True)
    again = editor.post(action, data={"csrf_token": token}, follow_redirects=True)

    assert flashes(again.get_data(as_text=True)) == [
        "Cette édition n’attend plus son heure : elle est terminée."
    ]
    assert len(smtp_sink.messages) == 3
    assert len(db.session.execute(db.select(AuditEntry)).all()) == 1


def test_send_now_without_its_token_or_for_no_edition_changes_nothing(
    app: Flask, editor: FlaskClient, smtp_sink: SmtpSink
) -> None:
    digest_id = scheduled(utcnow() + timedelta(hours=2))
    page = editor.get(f"/admin/digests/{digest_id}").get_data(as_text=True)
    token = csrf_in(page, f"/admin/digests/{digest_id}/send-now")

    assert editor.post(f"/admin/digests/{digest_id}/send-now").status_code == 400
    assert editor.post("/admin/digests/999/send-now", data={"csrf_token": token}).status_code == 404
    assert editor.get(f"/admin/digests/{digest_id}/send-now").status_code == 405

    assert reloaded_digest(digest_id).status is DigestStatus.PLANNED
    assert reloaded_digest(digest_id).planned_at is None
    assert smtp_sink.messages == []


def test_a_scheduled_edition_cancelled_from_its_page_never_leaves(
    app: Flask, editor: FlaskClient, smtp_sink: SmtpSink
) -> None:
    send_at = utcnow() + timedelta(hours=2)
    digest_id = scheduled(send_at)
    confirm = editor.get(f"/admin/digests/{digest_id}/cancel").get_data(as_text=True)
    action = f"/admin/digests/{digest_id}/cancel"

    cancelled = editor.post(action, data={"csrf_token": csrf_in(confirm, action)})

    assert cancelled.status_code == 303
    page = editor.get(f"/admin/digests/{digest_id}").get_data(as_text=True)
    assert "annulée" in visible(page)
    assert "Programmée pour" not in visible(page) and "Envoyer maintenant" not in visible(page)
    listed = visible(editor.get("/admin/digests").get_data(as_text=True))
    assert "annulée" in listed and "Programmée pour" not in listed
    assert start_due(now=send_at + timedelta(minutes=1)) == []
    assert reloaded_digest(digest_id).status is DigestStatus.CANCELLED
    assert delivery_count(digest_id) == 0 and smtp_sink.messages == []
