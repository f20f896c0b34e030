"""Pause, resume and cancel from the CLI and the API; progress as editors see it."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from newsletter.admin.accounts import issue_token, save_editor
from newsletter.delivery import digest_progress, plan_deliveries
from newsletter.delivery.control import cancel
from newsletter.delivery.drain import drain
from newsletter.delivery.progress import follow
from newsletter.models import Delivery, DeliveryState, Digest, DigestStatus, db
from tests.delivery.seed import seed_all
from tests.support.smtp import SmtpSink


@pytest.fixture
def token(app: Flask) -> str:
    save_editor("editor@example.com", "a long enough password", is_admin=False)
    return issue_token("editor@example.com", name="tests")


def planned_not_sent(app: Flask, count: int) -> tuple[int, list[str]]:
    seeded = seed_all(count)
    task = app.extensions["celery"].tasks["delivery.drain"]
    original = task.apply_async
    task.apply_async = lambda *a, **k: None  # type: ignore[method-assign]
    try:
        plan_deliveries(seeded.digest_id)
    finally:
        task.apply_async = original  # type: ignore[method-assign]
    return seeded.digest_id, seeded.emails


def test_cancel_from_the_api_stops_every_reader_not_yet_mailed(
    app: Flask, client: FlaskClient, token: str, smtp_sink: SmtpSink
) -> None:
    digest_id, _ = planned_not_sent(app, 30)
    headers = {"Authorization": f"Bearer {token}"}

    response = client.post(f"/api/v1/digests/{digest_id}/cancel", headers=headers)

    assert response.status_code == 200
    assert response.json["status"] == "cancelled"
    assert response.json["counts"]["cancelled"] == 30
    drain(digest_id)
    assert smtp_sink.messages == []
    again = client.post(f"/api/v1/digests/{digest_id}/resume", headers=headers)
    assert again.status_code == 409


def test_the_api_refuses_without_a_token(app: Flask, client: FlaskClient) -> None:
    digest_id, _ = planned_not_sent(app, 3)
    assert client.post(f"/api/v1/digests/{digest_id}/pause").status_code == 401
    assert client.get(f"/api/v1/digests/{digest_id}/delivery").status_code == 401


def test_pause_then_resume_from_the_cli_mails_each_reader_once(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    digest_id, emails = planned_not_sent(app, 60)
    runner = app.test_cli_runner()

    paused = runner.invoke(args=["digest", "pause", str(digest_id), "--reason", "typo"])
    assert paused.exit_code == 0, paused.output
    drain(digest_id)  # a worker picking up a drain while paused sends nothing
    assert smtp_sink.messages == []
    assert db.session.get(Digest, digest_id).pause_reason == "typo"

    resumed = runner.invoke(args=["digest", "resume", str(digest_id)])  # drains run inline
    assert resumed.exit_code == 0, resumed.output

    received = Counter(r for m in smtp_sink.messages for r in m.rcpt_tos)
    assert received == Counter(emails)
    assert db.session.get(Digest, digest_id).status is DigestStatus.FINISHED
    watched = runner.invoke(args=["digest", "status", str(digest_id), "--watch"])
    assert watched.exit_code == 0, watched.output
    assert "100%" in watched.output and "sent 60" in watched.output and "finished" in watched.output


def test_progress_over_the_api_is_counted_from_the_rows(
    app: Flask, client: FlaskClient, token: str, smtp_sink: SmtpSink
) -> None:
    digest_id, _ = planned_not_sent(app, 12)
    headers = {"Authorization": f"Bearer {token}"}
    before = client.get(f"/api/v1/digests/{digest_id}/delivery", headers=headers).json
    drain(digest_id)
    after = client.get(f"/api/v1/digests/{digest_id}/delivery", headers=headers).json

    assert before["counts"]["pending"] == 12 and before["status"] == "sending"
    assert after["counts"]["sent"] == 12 and after["status"] == "finished"
    assert after["counts"] == digest_progress(digest_id)


def test_following_a_digest_reports_each_round_until_it_is_finished(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    digest_id, emails = planned_not_sent(app, 12)

    # Between two rounds the workers send everything: the next round is the last.
    rounds = list(follow(digest_id, interval=0, wait=lambda _: drain(digest_id)))

    assert [(r.status, r.counts["pending"], r.counts["sent"]) for r in rounds] == [
        ("sending", 12, 0),
        ("finished", 0, 12),
    ]
    assert sorted(r for m in smtp_sink.messages for r in m.rcpt_tos) == sorted(emails)


def test_following_a_cancelled_digest_stops_at_once_and_an_unknown_one_shows_nothing(
    app: Flask,
) -> None:
    digest_id, _ = planned_not_sent(app, 3)
    cancel(digest_id)

    def never(_: float) -> None:
        pytest.fail("waited for a digest that cannot change any more")

    assert [r.status for r in follow(digest_id, wait=never)] == ["cancelled"]
    assert list(follow(digest_id + 1000, wait=never)) == []


# One row in every state, and a second failed row whose reply was temporary (not a bounce).
EVERY_STATE = [(state, None) for state in DeliveryState if state is not DeliveryState.FAILED]
EVERY_STATE += [(DeliveryState.FAILED, 550), (DeliveryState.FAILED, 451)]


def test_the_digest_and_its_delivery_endpoints_report_the_same_counts(
    app: Flask, client: FlaskClient, token: str
) -> None:
    digest_id, _ = planned_not_sent(app, len(EVERY_STATE))
    ids = db.session.execute(
        sa.select(Delivery.id).where(Delivery.digest_id == digest_id).order_by(Delivery.id)
    ).scalars()
    for row_id, (state, code) in zip(ids, EVERY_STATE, strict=True):
        db.session.execute(
            sa.update(Delivery).where(Delivery.id == row_id).values(state=state, smtp_code=code)
        )
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}

    summary = client.get(f"/api/v1/digests/{digest_id}", headers=headers).json["counts"]
    by_state = client.get(f"/api/v1/digests/{digest_id}/delivery", headers=headers).json
    status = app.test_cli_runner().invoke(args=["digest", "status", str(digest_id)])

    assert summary == {
        "planned": 10,
        "pending": 1,
        "sent": 1,
        "skipped": 1,
        "failed": 2,
        "bounced": 1,
        "uncertain": 1,
        "other": 4,  # sending, deferred, expired, cancelled
    }
    assert by_state["total"] == 10
    for name in ("pending", "sent", "skipped", "failed", "uncertain"):
        assert by_state["counts"][name] == summary[name], name
    assert summary["other"] == sum(
        by_state["counts"][name] for name in ("sending", "deferred", "expired", "cancelled")
    )
    assert "planned 10  pending 1  sent 1  skipped 1  failed 2  bounced 1" in status.output
