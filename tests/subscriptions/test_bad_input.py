"""Every bad input gets a clear 4xx, and nothing is stored and nothing is sent."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from newsletter.models import ConsentEvent, Subscriber, SubscriberStatus, db
from newsletter.subscriptions import tokens
from newsletter.subscriptions.tokens import Purpose
from tests.subscriptions.conftest import csrf_token, form_data, page_text, submit
from tests.support.smtp import SmtpSink

TEN_KB = "x" * 10_240


def nothing_stored_nor_sent(smtp_sink: SmtpSink) -> None:
    db.session.remove()
    assert db.session.execute(db.select(db.func.count(Subscriber.id))).scalar_one() == 0
    assert db.session.execute(db.select(db.func.count(ConsentEvent.id))).scalar_one() == 0
    assert smtp_sink.messages == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-address"}, "Veuillez saisir une adresse email valide."),
        ({"email": "lea@"}, "Veuillez saisir une adresse email valide."),
        ({"email": "lea@example.org\r\nBcc: victim@example.net"}, "adresse email valide"),
        ({"email": "lea@example.org\n"}, "adresse email valide"),
        ({"email": TEN_KB + "@example.org"}, "adresse email valide"),
        ({"name": "Léa\r\nBcc: victim@example.net"}, "ne peut pas contenir de retour à la ligne"),
        ({"name": TEN_KB}, "Votre prénom est trop long"),
        ({"regions": []}, "Veuillez choisir au moins une région."),
        ({"regions": ["asie", "atlantide"]}, "Veuillez choisir parmi les régions proposées."),
        ({"language": "de"}, "Veuillez choisir le français ou l'anglais."),
        ({"website": "http://spam.example"}, "Votre inscription n'a pas pu être acceptée."),
    ],
    ids=[
        "malformed",
        "no-domain",
        "crlf-in-address",
        "lf-in-address",
        "10kb-address",
        "crlf-in-name",
        "10kb-name",
        "no-region",
        "unknown-region",
        "unknown-language",
        "honeypot",
    ],
)
def test_the_form_refuses_bad_input_next_to_the_field(
    client: FlaskClient, smtp_sink: SmtpSink, fields: dict[str, Any], message: str
) -> None:
    response = submit(client, **fields)
    assert response.status_code == 400
    assert message in page_text(response)
    nothing_stored_nor_sent(smtp_sink)


def test_errors_are_in_english_for_an_english_reader(client: FlaskClient) -> None:
    response = submit(client, email="nope", language="en")
    assert response.status_code == 400
    assert "Please enter a valid email address." in page_text(response)


def test_the_form_refuses_a_post_without_csrf_token(
    client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    data = form_data("")
    del data["csrf_token"]
    response = client.post("/", data=data)
    assert response.status_code == 400
    assert "Votre session a expiré" in page_text(response)
    nothing_stored_nor_sent(smtp_sink)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"email": "not-an-address", "regions": ["asie"]}, 400),
        ({"email": "a@example.org\r\nBcc: v@example.net", "regions": ["asie"]}, 400),
        ({"email": "a@example.org", "name": "A\nB", "regions": ["asie"]}, 400),
        ({"email": "a@example.org", "name": TEN_KB, "regions": ["asie"]}, 400),
        ({"email": "a@example.org", "regions": []}, 400),
        ({"email": "a@example.org", "regions": ["atlantide"]}, 400),
        ({"email": "a@example.org", "regions": "asie;russie"}, 400),
        ({"email": "a@example.org", "regions": ["asie"], "website": "x"}, 400),
        (["not", "an", "object"], 400),
    ],
    ids=[
        "malformed",
        "crlf-in-address",
        "lf-in-name",
        "10kb-name",
        "no-region",
        "unknown-region",
        "regions-not-a-list",
        "honeypot",
        "not-an-object",
    ],
)
def test_the_api_refuses_bad_input(
    client: FlaskClient, smtp_sink: SmtpSink, body: Any, status: int
) -> None:
    response = client.post("/api/v1/subscriptions", json=body)
    assert response.status_code == status
    assert response.get_json()["error"]
    nothing_stored_nor_sent(smtp_sink)


def test_the_api_refuses_a_form_post(client: FlaskClient, smtp_sink: SmtpSink) -> None:
    response = client.post(
        "/api/v1/subscriptions", data={"email": "a@example.org", "regions": "asie"}
    )
    assert response.status_code == 415
    nothing_stored_nor_sent(smtp_sink)


# --- signed links --------------------------------------------------------------------------


@pytest.fixture
def pending(app: Flask) -> Subscriber:
    subscriber = Subscriber(email="lea@example.org", status=SubscriberStatus.PENDING)
    db.session.add(subscriber)
    db.session.commit()
    return subscriber


def old_token(app: Flask, purpose: Purpose, payload: dict[str, Any], *, days: int) -> str:
    class Backdated(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - days * 86400

    serializer = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt=purpose.value, signer=Backdated
    )
    return str(serializer.dumps(payload))


def still_pending(smtp_sink: SmtpSink) -> None:
    db.session.remove()
    subscriber = db.session.execute(db.select(Subscriber)).scalar_one()
    assert subscriber.status == SubscriberStatus.PENDING
    assert db.session.execute(db.select(db.func.count(ConsentEvent.id))).scalar_one() == 0
    assert smtp_sink.messages == []


def test_a_forged_confirm_token_is_refused(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink, pending: Subscriber
) -> None:
    genuine = tokens.sign(Purpose.CONFIRM, pending.id, pending.token_nonce)
    forged = genuine[:-3] + ("AAA" if not genuine.endswith("AAA") else "BBB")
    forged_payload = URLSafeTimedSerializer("guessed-key", salt="confirm-v1").dumps(
        {"sid": pending.id, "lid": "ri", "nonce": pending.token_nonce}
    )
    for token in (forged, forged_payload, "nonsense"):
        assert client.get(f"/confirm/{token}").status_code == 400
        response = client.post(f"/confirm/{token}", data={"csrf_token": csrf_token(client)})
        assert response.status_code == 400
        assert "Ce lien n'est pas valide" in page_text(response)
    still_pending(smtp_sink)


def test_an_expired_confirm_token_offers_a_new_email_and_confirms_nothing(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink, pending: Subscriber
) -> None:
    payload = {"sid": pending.id, "lid": "ri", "nonce": pending.token_nonce}
    token = old_token(app, Purpose.CONFIRM, payload, days=8)
    page = client.get(f"/confirm/{token}")
    assert page.status_code == 410
    assert "M'envoyer un nouveau lien" in page_text(page)
    response = client.post(f"/confirm/{token}", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 410
    still_pending(smtp_sink)


def test_a_token_for_another_purpose_is_refused(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink, pending: Subscriber
) -> None:
    unsubscribe = tokens.sign(Purpose.UNSUBSCRIBE, pending.id)
    manage_as_confirm = tokens.sign(Purpose.MANAGE, pending.id)
    confirm_as_unsubscribe = tokens.sign(Purpose.CONFIRM, pending.id, pending.token_nonce)
    csrf = csrf_token(client)
    assert client.post(f"/confirm/{unsubscribe}", data={"csrf_token": csrf}).status_code == 400
    assert (
        client.post(f"/confirm/{manage_as_confirm}", data={"csrf_token": csrf}).status_code == 400
    )
    assert client.post(f"/unsubscribe/{confirm_as_unsubscribe}").status_code == 400
    assert client.get(f"/manage/{unsubscribe}").status_code == 400
    assert client.post(f"/erase/{unsubscribe}", data={"csrf_token": csrf}).status_code == 400
    still_pending(smtp_sink)


def test_an_expired_erase_link_erases_nothing(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink, pending: Subscriber
) -> None:
    payload = {"sid": pending.id, "lid": "ri", "nonce": pending.token_nonce}
    token = old_token(app, Purpose.ERASE, payload, days=1)
    response = client.post(f"/erase/{token}", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 410
    still_pending(smtp_sink)


# --- rate limits ---------------------------------------------------------------------------


class TestOverTheIpLimit:
    @pytest.fixture
    def app_overrides(self, smtp_sink: SmtpSink) -> dict[str, Any]:
        return {"SMTP_URL": smtp_sink.url, "SUBSCRIBE_IP_LIMIT": "2 per hour"}

    def test_one_request_over_the_ip_limit_is_refused_and_leaves_no_trace(
        self, client: FlaskClient, smtp_sink: SmtpSink
    ) -> None:
        assert submit(client, email="one@example.org").status_code == 200
        assert submit(client, email="two@example.org").status_code == 200
        response = submit(client, email="three@example.org")
        assert response.status_code == 429
        assert "Trop de demandes" in page_text(response)
        api = client.post(
            "/api/v1/subscriptions", json={"email": "four@example.org", "regions": ["asie"]}
        )
        assert api.status_code == 429
        assert "trop de demandes" in api.get_json()["message"]
        db.session.remove()
        emails = db.session.execute(db.select(Subscriber.email).order_by(Subscriber.id))
        assert list(emails.scalars()) == ["one@example.org", "two@example.org"]
        smtp_sink.wait_for("two@example.org")
        assert smtp_sink.to("three@example.org") == smtp_sink.to("four@example.org") == []


def test_a_request_over_the_address_cap_answers_as_usual_and_sends_nothing(
    client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    first = submit(client, email="lea@example.org")
    assert first.status_code == 200
    # Another case and a +tag reach the same mailbox: the same cap, silently.
    again = submit(client, email="LEA+news@example.org", regions=["russie"])
    assert again.status_code == 200
    assert again.get_data() == first.get_data()
    api = client.post(
        "/api/v1/subscriptions", json={"email": "lea@example.org", "regions": ["russie"]}
    )
    assert api.status_code == 202
    db.session.remove()
    subscriber = db.session.execute(db.select(Subscriber)).scalar_one()
    assert subscriber.email == "lea@example.org"
    assert subscriber.region_slugs == ["asie", "afrique"]  # the capped requests changed nothing
    assert db.session.execute(db.select(db.func.count(ConsentEvent.id))).scalar_one() == 1
    assert len(smtp_sink.wait_for("lea@example.org")) == 1
    assert smtp_sink.to("lea+news@example.org") == []
