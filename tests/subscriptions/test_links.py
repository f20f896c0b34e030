"""Signed links from emails: confirm once, unsubscribe in one click, manage, export, erase."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from newsletter.models import (
    ConsentEvent,
    ConsentKind,
    Delivery,
    DeliveryState,
    Digest,
    DigestKind,
    Subscriber,
    SubscriberStatus,
    Suppression,
    db,
    utcnow,
)
from newsletter.subscriptions import tokens
from newsletter.subscriptions.addresses import email_hmac
from newsletter.subscriptions.consent import form_version
from tests.subscriptions.conftest import csrf_token, link_in, page_text, submit
from tests.support.smtp import SmtpSink


def local(url: str) -> str:
    return url.removeprefix("http://newsletter.test")


def the_reader() -> Subscriber:
    db.session.remove()
    return db.session.execute(db.select(Subscriber)).scalar_one()


def events() -> list[ConsentEvent]:
    db.session.remove()
    return list(db.session.execute(db.select(ConsentEvent).order_by(ConsentEvent.id)).scalars())


def subscribed_and_confirmed(client: FlaskClient, smtp_sink: SmtpSink) -> Subscriber:
    submit(client)
    confirm = local(link_in(smtp_sink.wait_for("lea@example.org")[0], "/confirm"))
    client.post(confirm, data={"csrf_token": csrf_token(client, confirm)})
    return the_reader()


def test_confirming_twice_says_already_confirmed_and_records_one_confirmation(
    client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    submit(client)
    confirm = local(link_in(smtp_sink.wait_for("lea@example.org")[0], "/confirm"))
    token = csrf_token(client, confirm)
    first = client.post(confirm, data={"csrf_token": token})
    second = client.post(confirm, data={"csrf_token": token})
    assert "Votre inscription est confirmée" in page_text(first)
    assert second.status_code == 200
    assert "Déjà confirmée" in page_text(second)
    assert "Déjà confirmée" in page_text(client.get(confirm))
    assert [e.kind for e in events()] == [ConsentKind.SUBSCRIBE, ConsentKind.CONFIRM]


def test_consent_events_hold_time_ip_user_agent_and_the_consent_text_version(
    client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    client.environ_base.update({"HTTP_USER_AGENT": "Firefox/140", "REMOTE_ADDR": "10.0.0.1"})
    # ProxyFix trusts one hop: the client is the address that proxy saw.
    client.post(
        "/",
        data={
            "csrf_token": csrf_token(client),
            "email": "lea@example.org",
            "regions": ["asie"],
            "language": "en",
        },
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    (event,) = events()
    assert event.kind == ConsentKind.SUBSCRIBE
    assert (event.ip, event.user_agent) == ("10.0.0.1", "Firefox/140")
    assert event.form_version == form_version("en") != form_version("fr")
    assert event.at is not None and event.source == "form"


def test_an_expired_link_offers_a_new_email_that_confirms(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    submit(client)
    reader = the_reader()

    class Backdated(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 8 * 86400

    old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="confirm-v1", signer=Backdated)
    token = old.dumps({"sid": reader.id, "lid": "ri", "nonce": reader.token_nonce})
    page = client.get(f"/confirm/{token}")
    assert page.status_code == 410
    # The per-address cap allows one mail per 15 minutes: the first one is that old.
    app.config["ADDRESS_MAIL_LIMIT"] = "5 per day"
    resent = client.post(f"/confirm/{token}/resend", data={"csrf_token": csrf_token(client)})
    assert resent.status_code == 200
    fresh = local(link_in(smtp_sink.wait_for("lea@example.org", count=2)[1], "/confirm"))
    client.post(fresh, data={"csrf_token": csrf_token(client, fresh)})
    assert the_reader().status == SubscriberStatus.CONFIRMED


def test_one_click_unsubscribe_needs_no_cookie_is_idempotent_and_stops_a_digest_at_once(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    reader = subscribed_and_confirmed(client, smtp_sink)
    now = utcnow()
    digest = Digest(
        edition_key="special-test",
        kind=DigestKind.SPECIAL,
        window_start=now - timedelta(days=7),
        window_end=now,
    )
    db.session.add(digest)
    db.session.flush()
    db.session.add(Delivery(digest_id=digest.id, subscriber_id=reader.id))
    db.session.commit()

    url = local(tokens.reader_links(reader.id).unsubscribe_url)
    scanner = app.test_client()  # a link scanner: GET only, changes nothing
    assert scanner.get(url).status_code == 200
    assert the_reader().status == SubscriberStatus.CONFIRMED

    mail_client = app.test_client()  # no cookie, no CSRF token: RFC 8058
    for _ in range(2):
        response = mail_client.post(url, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
        assert "Vous êtes désinscrit" in page_text(response)
    assert the_reader().status == SubscriberStatus.UNSUBSCRIBED
    assert [e.kind for e in events()].count(ConsentKind.UNSUBSCRIBE) == 1
    assert events()[-1].source == "one-click"
    state = db.session.execute(db.select(Delivery.state)).scalar_one()
    assert state == DeliveryState.CANCELLED


def test_the_preference_centre_pauses_and_exports_the_readers_data(
    client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    reader = subscribed_and_confirmed(client, smtp_sink)
    manage = local(tokens.reader_links(reader.id).manage_url)
    response = client.post(
        manage,
        data={
            "csrf_token": csrf_token(client, manage),
            "regions": ["all"],
            "language": "fr",
            "paused": "y",
        },
        follow_redirects=True,
    )
    assert "Vos préférences sont enregistrées." in page_text(response)
    reader = the_reader()
    assert reader.paused and len(reader.region_slugs) == 7
    assert [e.kind for e in events()][-2:] == [ConsentKind.CHANGE, ConsentKind.PAUSE]

    export = client.get(manage + "/data.json")
    assert export.headers["Content-Disposition"].startswith("attachment")
    data = json.loads(export.get_data())
    assert data["email"] == "lea@example.org" and data["paused"] is True
    assert [e["kind"] for e in data["consent_events"]][:2] == ["subscribe", "confirm"]


def test_the_preference_centre_refuses_no_region_and_keeps_the_choice(
    client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    reader = subscribed_and_confirmed(client, smtp_sink)
    manage = local(tokens.reader_links(reader.id).manage_url)
    response = client.post(
        manage, data={"csrf_token": csrf_token(client, manage), "language": "fr"}
    )
    assert response.status_code == 400
    assert "Veuillez choisir au moins une région." in page_text(response)
    assert the_reader().region_slugs == ["asie", "afrique"]


def test_erasing_is_confirmed_by_email_and_leaves_only_a_keyed_hash(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    reader = subscribed_and_confirmed(client, smtp_sink)
    manage = local(tokens.reader_links(reader.id).manage_url)
    app.config["ADDRESS_MAIL_LIMIT"] = "5 per day"
    asked = client.post(manage + "/erase", data={"csrf_token": csrf_token(client, manage)})
    assert "Vérifiez votre boîte de réception" in page_text(asked)
    assert the_reader().email == "lea@example.org"  # nothing erased yet
    erase = local(link_in(smtp_sink.wait_for("lea@example.org", count=2)[1], "/erase"))
    assert client.get(erase).status_code == 200
    done = client.post(erase, data={"csrf_token": csrf_token(client, erase)})
    assert "Vos données sont effacées" in page_text(done)

    db.session.remove()
    assert db.session.execute(db.select(Subscriber)).first() is None
    (suppression,) = db.session.execute(db.select(Suppression)).scalars()
    assert suppression.email_hmac == email_hmac("lea@example.org")
    assert "lea@example.org" not in suppression.email_hmac
    for event in events():
        assert event.subscriber_id is None and event.ip is None and event.user_agent is None
    assert events()[-1].kind == ConsentKind.ERASE


def test_pending_readers_are_purged_after_the_set_age(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    submit(client)
    submit(client, email="recent@example.org")
    db.session.execute(
        db.update(Subscriber)
        .where(Subscriber.email == "lea@example.org")
        .values(updated_at=utcnow() - timedelta(days=31))
    )
    db.session.commit()
    app.extensions["celery"].tasks["subscriptions.purge_pending"].delay()
    db.session.remove()
    emails = db.session.execute(db.select(Subscriber.email)).scalars().all()
    assert emails == ["recent@example.org"]
    assert all(e.subscriber_id is not None for e in events())


def test_an_old_link_of_a_confirmed_reader_says_already_confirmed(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    reader = subscribed_and_confirmed(client, smtp_sink)

    class Backdated(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 30 * 86400

    old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="confirm-v1", signer=Backdated)
    token = old.dumps({"sid": reader.id, "lid": "ri", "nonce": "an-old-nonce"})
    response = client.get(f"/confirm/{token}")
    assert response.status_code == 200
    assert "Déjà confirmée" in page_text(response)


def test_links_signed_before_a_key_rotation_still_unsubscribe(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    reader = subscribed_and_confirmed(client, smtp_sink)
    url = local(tokens.reader_links(reader.id).unsubscribe_url)
    app.config["OLD_SECRET_KEYS"] = [app.config["SECRET_KEY"]]
    app.config["SECRET_KEY"] = "the-new-key"
    assert app.test_client().post(url).status_code == 200
    assert the_reader().status == SubscriberStatus.UNSUBSCRIBED
    app.config["OLD_SECRET_KEYS"] = []
    assert app.test_client().post(url).status_code == 400  # retired keys sign nothing


def test_links_are_the_tokens_itsdangerous_makes_and_reads(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The digest signs two links per reader by a fast path; a link must stay the standard
    # token, so that links already in inboxes and any other itsdangerous reader agree.
    app.config["OLD_SECRET_KEYS"] = ["an-old-key"]
    keys = ["an-old-key", app.config["SECRET_KEY"]]
    for reader_id in (7, 123456789):
        links = tokens.reader_links(reader_id)
        for url, purpose in (
            (links.unsubscribe_url, tokens.Purpose.UNSUBSCRIBE),
            (links.manage_url, tokens.Purpose.MANAGE),
        ):
            token = url.rsplit("/", 1)[1]
            standard = URLSafeTimedSerializer(keys, salt=purpose.value)
            payload, signed_at = standard.loads(token, return_timestamp=True)
            assert payload == {"sid": reader_id, "lid": "ri"}
            at = int(signed_at.timestamp())
            monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self, at=at: at)
            assert token == standard.dumps(payload)
            assert tokens.read(purpose, token).subscriber_id == reader_id
        # A letter's links also name its edition: still the standard token, read back.
        letter = tokens.reader_links_signer(42)(reader_id).unsubscribe_url.rsplit("/", 1)[1]
        standard = URLSafeTimedSerializer(keys, salt=tokens.Purpose.UNSUBSCRIBE.value)
        assert standard.loads(letter) == {"sid": reader_id, "lid": "ri", "d": 42}
        assert tokens.read(tokens.Purpose.UNSUBSCRIBE, letter).digest_id == 42
        plain = links.unsubscribe_url.rsplit("/", 1)[1]  # a link from no letter names none
        assert tokens.read(tokens.Purpose.UNSUBSCRIBE, plain).digest_id is None
        nonce = "n" * 80  # long enough for the compressed form
        long_token = tokens.sign(tokens.Purpose.CONFIRM, reader_id, nonce)
        standard = URLSafeTimedSerializer(keys, salt="confirm-v1")
        assert long_token == standard.dumps({"sid": reader_id, "lid": "ri", "nonce": nonce})
        assert long_token.startswith(".")  # compressed, as itsdangerous does for long payloads
        monkeypatch.undo()
