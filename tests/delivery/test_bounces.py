"""Bounces and complaints, by the signed webhook and from a saved bounce mailbox."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from newsletter.delivery.webhooks import SIGNATURE_HEADER, signature
from newsletter.models import (
    BounceEvent,
    ConsentEvent,
    ConsentKind,
    Delivery,
    DeliveryState,
    Digest,
    DigestKind,
    Subscriber,
    SubscriberStatus,
    Suppression,
    SuppressionReason,
    db,
)
from newsletter.subscriptions.addresses import email_hmac

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bounces"
SECRET = "s3cret-bounce-key"
URL = "/webhooks/bounces"
# The readers the fixtures name, and the delivery ids in their Message-IDs.
READERS = {
    "marie.dupont@example.net": (9001, "<d9001.12.5f3a9c1e@revue-internationale.example>"),
    "jean.martin@example.fr": (9002, "<d9002.12.0be71d44@revue-internationale.example>"),
    "paul.leroy@example.org": (9003, "<d9003.12.77aa01bc@revue-internationale.example>"),
    "claire.bernard@example.com": (9004, "<d9004.12.3e21f0aa@revue-internationale.example>"),
}


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    return {"BOUNCE_WEBHOOK_SECRET": SECRET, "SEND_HARD_BOUNCES": 2}


@pytest.fixture
def readers(app: Flask) -> dict[str, int]:
    """Four confirmed readers, each sent one delivery of a digest and queued for a second."""
    end = datetime(2026, 11, 27, 7, tzinfo=UTC)
    sent = Digest(
        edition_key="weekly-2026-W48", kind=DigestKind.WEEKLY, window_start=end, window_end=end
    )
    next_one = Digest(
        edition_key="special-2026-11-28-1",
        kind=DigestKind.SPECIAL,
        window_start=end,
        window_end=end + timedelta(days=1),
    )
    db.session.add_all([sent, next_one])
    ids = {}
    for email, (delivery_id, message_id) in READERS.items():
        reader = Subscriber(email=email, status=SubscriberStatus.CONFIRMED, confirmed_at=end)
        db.session.add(reader)
        db.session.flush()
        ids[email] = reader.id
        db.session.add_all(
            [
                Delivery(
                    id=delivery_id,
                    digest_id=sent.id,
                    subscriber_id=reader.id,
                    state=DeliveryState.SENT,
                    message_id=message_id,
                ),
                Delivery(id=delivery_id + 100, digest_id=next_one.id, subscriber_id=reader.id),
            ]
        )
    db.session.commit()
    return ids


def reader(email: str) -> Subscriber:
    db.session.expire_all()
    query = db.select(Subscriber).where(Subscriber.email == email)
    return db.session.execute(query).scalar_one()


def snapshot() -> dict[str, Any]:
    """Everything a bounce may change."""
    db.session.expire_all()
    return {
        "readers": sorted(
            (s.email, s.status.value, s.hard_bounces, s.unsubscribed_at)
            for s in db.session.execute(db.select(Subscriber)).scalars()
        ),
        "deliveries": sorted(
            (d.id, d.state.value) for d in db.session.execute(db.select(Delivery)).scalars()
        ),
        "consent": sorted(
            (c.subscriber_id, c.kind.value)
            for c in db.session.execute(db.select(ConsentEvent)).scalars()
        ),
        "suppressions": sorted(db.session.execute(db.select(Suppression.email_hmac)).scalars()),
        "events": sorted(db.session.execute(db.select(BounceEvent.key)).scalars()),
    }


def post(client: FlaskClient, body: bytes, content_type: str, *, sign: bool = True) -> Any:
    headers = {SIGNATURE_HEADER: signature(SECRET, body)} if sign else {}
    return client.post(URL, data=body, content_type=content_type, headers=headers)


def json_bounce(email: str, *, event_id: str, status: str = "5.1.1") -> bytes:
    event = {"id": event_id, "type": "bounce", "email": email, "status": status}
    return json.dumps({"events": [event]}).encode()


def open_deliveries(subscriber_id: int) -> list[str]:
    query = db.select(Delivery.state).where(Delivery.subscriber_id == subscriber_id)
    db.session.expire_all()
    return sorted(state.value for state in db.session.execute(query).scalars())


def test_a_signed_json_hard_bounce_bounces_the_reader_at_the_threshold_and_suppresses(
    client: FlaskClient, readers: dict[str, int]
) -> None:
    email = "marie.dupont@example.net"
    first = post(
        client, json_bounce("Marie.Dupont@example.net", event_id="ev-1"), "application/json"
    )
    assert first.status_code == 200
    assert first.json == {"status": "processed", "events": ["hard-bounce"]}
    assert (reader(email).status, reader(email).hard_bounces) == (SubscriberStatus.CONFIRMED, 1)
    assert db.session.get(Suppression, email_hmac(email)) is None

    second = post(client, json_bounce(email, event_id="ev-2"), "application/json")
    assert second.json == {"status": "processed", "events": ["bounced"]}
    assert (reader(email).status, reader(email).hard_bounces) == (SubscriberStatus.BOUNCED, 2)
    suppression = db.session.get(Suppression, email_hmac(email))
    assert suppression is not None and suppression.reason is SuppressionReason.HARD_BOUNCE
    assert open_deliveries(readers[email]) == ["cancelled", "sent"]
    kinds = db.session.execute(
        db.select(ConsentEvent.kind).where(ConsentEvent.subscriber_id == readers[email])
    ).scalars()
    assert list(kinds) == [ConsentKind.BOUNCE]


def test_a_json_soft_bounce_is_recorded_and_changes_no_status(
    client: FlaskClient, readers: dict[str, int]
) -> None:
    body = json_bounce("paul.leroy@example.org", event_id="ev-soft", status="4.2.2")
    response = post(client, body, "application/json")
    assert response.json == {"status": "processed", "events": ["soft-bounce"]}
    paul = reader("paul.leroy@example.org")
    assert (paul.status, paul.hard_bounces) == (SubscriberStatus.CONFIRMED, 0)
    assert open_deliveries(paul.id) == ["pending", "sent"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {SIGNATURE_HEADER: "sha256=" + "0" * 64},
        {SIGNATURE_HEADER: signature("another-secret", json_bounce("x@y.z", event_id="e"))},
        {SIGNATURE_HEADER: signature(SECRET, b"a different body")},
    ],
    ids=["missing", "zeros", "wrong-secret", "other-body"],
)
def test_a_bad_or_missing_signature_is_refused_and_changes_nothing(
    client: FlaskClient, readers: dict[str, int], headers: dict[str, str]
) -> None:
    before = snapshot()
    body = json_bounce("marie.dupont@example.net", event_id="e")
    response = client.post(URL, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 403
    assert response.json["error"] == "bad-signature"
    assert snapshot() == before


def test_without_a_secret_the_webhook_does_not_exist(app: Flask, client: FlaskClient) -> None:
    app.config["BOUNCE_WEBHOOK_SECRET"] = ""
    body = json_bounce("marie.dupont@example.net", event_id="e")
    response = client.post(URL, data=body, headers={SIGNATURE_HEADER: signature("", body)})
    assert response.status_code == 404


def test_a_raw_dsn_posted_to_the_webhook_counts_a_hard_bounce(
    client: FlaskClient, readers: dict[str, int]
) -> None:
    raw = (FIXTURES / "dsn-hard-5.1.1.eml").read_bytes()
    response = post(client, raw, "message/rfc822")
    assert response.json == {"status": "processed", "events": ["hard-bounce"]}
    assert reader("marie.dupont@example.net").hard_bounces == 1


def test_an_arf_complaint_posted_to_the_webhook_unsubscribes_the_reader(
    client: FlaskClient, readers: dict[str, int]
) -> None:
    raw = (FIXTURES / "arf-complaint.eml").read_bytes()
    response = post(client, raw, "message/rfc822")
    assert response.json == {"status": "processed", "events": ["unsubscribed"]}
    assert reader("claire.bernard@example.com").status is SubscriberStatus.UNSUBSCRIBED
    suppression = db.session.get(Suppression, email_hmac("claire.bernard@example.com"))
    assert suppression is not None and suppression.reason is SuppressionReason.COMPLAINT


def test_dsn_files_through_the_cli_bounce_hard_failures_and_only_record_delays(
    app: Flask, readers: dict[str, int], tmp_path: Path
) -> None:
    app.config["SEND_HARD_BOUNCES"] = 1
    for name in ("dsn-hard-5.1.1.eml", "dsn-hard-forwarded.eml", "dsn-delayed-4.2.2.eml"):
        shutil.copy(FIXTURES / name, tmp_path / name)

    result = app.test_cli_runner().invoke(args=["bounces", "process", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert "3 message(s) read" in result.output
    assert "bounced: 2" in result.output and "soft-bounce: 1" in result.output
    assert reader("marie.dupont@example.net").status is SubscriberStatus.BOUNCED
    # The forwarded address is unknown to us: our Message-ID found the reader.
    jean = reader("jean.martin@example.fr")
    assert (jean.status, jean.hard_bounces) == (SubscriberStatus.BOUNCED, 1)
    assert open_deliveries(jean.id) == ["cancelled", "sent"]
    paul = reader("paul.leroy@example.org")
    assert (paul.status, paul.hard_bounces) == (SubscriberStatus.CONFIRMED, 0)
    for email in ("marie.dupont@example.net", "jean.martin@example.fr"):
        assert db.session.get(Suppression, email_hmac(email)) is not None


def test_an_arf_complaint_from_a_maildir_unsubscribes_and_cancels_pending_deliveries(
    app: Flask, readers: dict[str, int], tmp_path: Path
) -> None:
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    shutil.copy(FIXTURES / "arf-complaint.eml", maildir / "new" / "1764324900.M1P2.mx:2,")

    result = app.test_cli_runner().invoke(args=["bounces", "process", str(maildir)])

    assert result.exit_code == 0, result.output
    assert "unsubscribed: 1" in result.output
    claire = reader("claire.bernard@example.com")
    assert claire.status is SubscriberStatus.UNSUBSCRIBED
    assert claire.unsubscribed_at is not None
    events = db.session.execute(
        db.select(ConsentEvent).where(ConsentEvent.subscriber_id == claire.id)
    ).scalars()
    [event] = list(events)
    assert (event.kind, event.source) == (ConsentKind.COMPLAINT, "mailbox")
    assert open_deliveries(claire.id) == ["cancelled", "sent"]
    # The other readers keep their queued digest.
    assert open_deliveries(readers["paul.leroy@example.org"]) == ["pending", "sent"]


JUNK = [
    (b"hello, this is not json", "text/plain"),
    (b"{not json", "application/json"),
    (b'{"events": []}', "application/json"),
    (b'{"events": [{"type": "bounce", "email": "marie.dupont@example.net"}]}', "application/json"),
    (b'{"events": [{"type": "opened", "email": "marie.dupont@example.net"}]}', "application/json"),
    (b'{"events": [{"type": "complaint", "email": ["a@b.c"]}]}', "application/json"),
    (b'{"events": [{"type": "complaint"}]}', "application/json"),
    (b"[1, 2, 3]", "application/json"),
    (
        b'{"events": [{"type": "bounce", "email": "a@b.c", "status": "' + b"9" * 300 + b'"}]}',
        "application/json",
    ),
    (b"\xff\xfe\x00garbage\x00" * 50, "application/octet-stream"),
    ((FIXTURES / "not-a-report.eml").read_bytes(), "message/rfc822"),
    ((FIXTURES / "dsn-naming-nobody.eml").read_bytes(), "message/rfc822"),
    (b"Content-Type: multipart/report; report-type=delivery-status\r\n\r\n", "message/rfc822"),
]


@pytest.mark.parametrize(("body", "content_type"), JUNK)
def test_junk_is_answered_400_with_a_reason_and_changes_nothing(
    client: FlaskClient, readers: dict[str, int], body: bytes, content_type: str
) -> None:
    before = snapshot()
    response = post(client, body, content_type)
    assert response.status_code == 400
    assert response.json["error"] == "junk" and response.json["reason"]
    assert snapshot() == before


def test_a_report_about_an_unknown_reader_is_ignored(
    client: FlaskClient, readers: dict[str, int]
) -> None:
    before = snapshot()
    response = post(client, json_bounce("stranger@example.net", event_id="x"), "application/json")
    assert response.status_code == 202
    assert response.json == {"status": "ignored", "events": ["unknown-recipient"]}
    assert snapshot() == before


def test_junk_files_in_the_mailbox_are_counted_and_skipped(
    app: Flask, readers: dict[str, int], tmp_path: Path
) -> None:
    before = snapshot()
    for name in ("not-a-report.eml", "dsn-naming-nobody.eml"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    (tmp_path / "binary.eml").write_bytes(b"\x00\xff" * 100)

    result = app.test_cli_runner().invoke(args=["bounces", "process", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert "3 message(s) read" in result.output
    assert "ignored (not a multipart/report message): 2" in result.output
    assert snapshot() == before


def test_the_same_reports_processed_twice_change_nothing_more(
    app: Flask, client: FlaskClient, readers: dict[str, int], tmp_path: Path
) -> None:
    body = json_bounce("marie.dupont@example.net", event_id="ev-once")
    assert post(client, body, "application/json").json["events"] == ["hard-bounce"]
    for name in ("dsn-hard-forwarded.eml", "arf-complaint.eml"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    runner = app.test_cli_runner()
    runner.invoke(args=["bounces", "process", str(tmp_path)])
    after_once = snapshot()

    assert post(client, body, "application/json").json == {
        "status": "ignored",
        "events": ["duplicate"],
    }
    # The same DSN arriving by the webhook too is the same event.
    raw = (FIXTURES / "dsn-hard-forwarded.eml").read_bytes()
    assert post(client, raw, "message/rfc822").json["events"] == ["duplicate"]
    again = runner.invoke(args=["bounces", "process", str(tmp_path)])

    assert "duplicate: 2" in again.output
    assert snapshot() == after_once
    assert reader("marie.dupont@example.net").hard_bounces == 1
    assert reader("jean.martin@example.fr").hard_bounces == 1
