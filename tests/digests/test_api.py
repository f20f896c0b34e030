"""POST /api/v1/digests starts an edition; GET /api/v1/digests/<id> reports its counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from newsletter.models import Digest, Editor, Subscriber, db, utcnow
from tests.support.smtp import SmtpSink


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink) -> dict[str, Any]:
    return {"SMTP_URL": smtp_sink.url, "SEND_RATE_PER_SECOND": 0.0}


@pytest.fixture
def auth(app: Flask) -> dict[str, str]:
    editor = Editor(email="chef@revue-internationale.example")
    editor.set_password("not-used-here")
    token = editor.new_token("tests")
    db.session.add(editor)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_an_editor_starts_a_special_edition_and_follows_its_counts(
    client: FlaskClient,
    auth: dict[str, str],
    sample_articles: None,
    smtp_sink: SmtpSink,
    make_reader: Callable[..., Subscriber],
) -> None:
    russie = make_reader("russie")
    make_reader("asie")

    created = client.post(
        "/api/v1/digests",
        json={
            "regions": ["russie", "asie"],
            "since": "2022-05-01",
            "until": "2022-05-31",
            "intro": "Une semaine en Ukraine.",
        },
        headers=auth,
    )

    assert created.status_code == 201, created.json
    body = created.json
    assert body["kind"] == "special" and body["regions"] == ["russie", "asie"]
    assert body["created_by"] == "chef@revue-internationale.example"
    assert body["window"] == {
        "since": "2022-04-30T22:00:00+00:00",
        "until": "2022-05-31T22:00:00+00:00",
    }
    assert created.headers["Location"].endswith(f"/api/v1/digests/{body['id']}")
    shown = client.get(f"/api/v1/digests/{body['id']}", headers=auth)
    assert shown.status_code == 200
    assert shown.json["status"] == "finished"
    assert shown.json["counts"] == {
        "planned": 2,
        "pending": 0,
        "sent": 1,
        "skipped": 1,
        "failed": 0,
        "bounced": 0,
        "uncertain": 0,
        "other": 0,
    }
    assert len(smtp_sink.to(russie.email)) == 1


def test_the_same_request_twice_makes_one_edition(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    headers = {**auth, "Idempotency-Key": "ui-4f9c"}
    first = client.post("/api/v1/digests", json={"regions": ["afrique"]}, headers=headers)
    again = client.post("/api/v1/digests", json={"regions": ["afrique"]}, headers=headers)
    weekly = client.post("/api/v1/digests", json={"kind": "weekly"}, headers=auth)
    weekly_again = client.post("/api/v1/digests", json={"kind": "weekly"}, headers=auth)

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["id"] == again.json["id"]
    assert (weekly.status_code, weekly_again.status_code) == (201, 200)
    assert weekly.json["id"] == weekly_again.json["id"] != first.json["id"]
    assert weekly.json["edition_key"].startswith("weekly-")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"regions": ["atlantide"]}, "unknown region(s): atlantide"),
        ({"since": "hier"}, "not a date"),
        ({"since": "2022-05-31", "until": "2022-05-01"}, "must start before"),
        ({"kind": "monthly"}, "kind must be"),
        ({"kind": "weekly", "intro": "x"}, "a weekly digest takes no intro"),
        ({"subject": "x"}, "unknown field(s): subject"),
        ({"pinned_article_id": "12"}, "pinned_article_id must be"),
    ],
)
def test_a_request_that_cannot_make_an_edition_is_refused_with_the_reason(
    client: FlaskClient, auth: dict[str, str], payload: dict[str, Any], message: str
) -> None:
    response = client.post("/api/v1/digests", json=payload, headers=auth)

    assert response.status_code == 400
    assert message in response.json["message"]


def test_digests_need_an_editors_token(client: FlaskClient, auth: dict[str, str]) -> None:
    assert client.post("/api/v1/digests", json={}).status_code == 401
    assert client.get("/api/v1/digests/1").status_code == 401
    bad = {"Authorization": "Bearer nlt_not-a-token"}
    assert client.post("/api/v1/digests", json={}, headers=bad).status_code == 401
    assert client.get("/api/v1/digests/999", headers=auth).status_code == 404


def test_a_special_edition_scheduled_through_the_api_waits_for_its_time(
    client: FlaskClient, auth: dict[str, str], sample_articles: None, smtp_sink: SmtpSink
) -> None:
    send_at = (utcnow() + timedelta(hours=2)).astimezone(ZoneInfo("Europe/Paris"))

    created = client.post(
        "/api/v1/digests",
        json={"regions": ["russie"], "since": "2022-05-01", "send_at": send_at.isoformat()},
        headers=auth,
    )

    assert created.status_code == 201, created.json
    assert created.json["status"] == "planned"
    assert datetime.fromisoformat(created.json["send_at"]) == send_at
    assert created.json["window"]["until"] == send_at.astimezone(UTC).isoformat()
    assert smtp_sink.messages == []


@pytest.mark.parametrize(
    ("send_at", "reason"),
    [
        ("2026-12-01T08:00:00", "UTC offset"),
        ("2020-12-01T08:00:00+01:00", "in the future"),
        ("2999-12-01T08:00:00+01:00", "within 366 days"),
        ("demain matin", "not an ISO 8601"),
    ],
)
def test_a_naive_past_far_or_garbled_send_at_is_a_422_naming_the_field(
    client: FlaskClient, auth: dict[str, str], send_at: str, reason: str
) -> None:
    refused = client.post("/api/v1/digests", json={"send_at": send_at}, headers=auth)

    assert refused.status_code == 422
    assert reason in refused.json["errors"]["send_at"]
    assert db.session.execute(db.select(Digest)).first() is None
