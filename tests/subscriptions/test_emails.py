"""What the reader's mailbox receives: their language, HTML and text, no user-typed text."""

from __future__ import annotations

from typing import Any

import pytest
from celery.exceptions import Retry
from flask import Flask
from flask.testing import FlaskClient

from newsletter.models import Subscriber, SubscriberStatus, db
from tests.subscriptions.conftest import submit
from tests.support.smtp import SmtpSink


def test_the_confirmation_email_speaks_the_readers_language_in_html_and_text(
    client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    submit(client, email="anna@example.org", name="Anna", language="en")
    submit(client, email="lea@example.org", name="Léa", language="fr")
    english = smtp_sink.wait_for("anna@example.org")[0].message
    french = smtp_sink.wait_for("lea@example.org")[0].message
    assert english["Subject"] == "Confirm your subscription to La Revue Internationale's newsletter"
    assert (
        french["Subject"]
        == "Confirmez votre inscription à la newsletter de La Revue Internationale"
    )
    for message, button in (
        (english, "Confirm my subscription"),
        (french, "Confirmer mon inscription"),
    ):
        text = message.get_body(preferencelist=("plain",)).get_content()
        html = message.get_body(preferencelist=("html",)).get_content()
        assert "/confirm/" in text and "/confirm/" in html
        assert button in html
        assert "7" in text  # the link's lifetime is stated
    assert "Anna" not in str(english) and "Léa" not in str(french)


def test_a_hostile_name_never_reaches_any_email(client: FlaskClient, smtp_sink: SmtpSink) -> None:
    submit(client, name="WIN A PRIZE http://spam.example", email="victim@example.org")
    (received,) = smtp_sink.wait_for("victim@example.org")
    assert b"spam.example" not in received.data
    assert b"PRIZE" not in received.data


def test_an_internationalized_address_is_normalized_and_reached_through_its_ascii_domain(
    client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    assert submit(client, email="Anna@Bücher.Example").status_code == 200
    stored = db.session.execute(db.select(Subscriber.email)).scalar_one()
    assert stored == "anna@bücher.example"
    assert smtp_sink.wait_for("anna@xn--bcher-kva.example")


class TestWhenTheRelayIsDown:
    """The web request never waits on SMTP: the confirmation waits in the queue instead."""

    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        # A real (embedded) broker instead of eager tasks; the default relay is a closed port.
        return {"CELERY_ALWAYS_EAGER": False, "REDIS_URL": None}

    def test_the_form_answers_at_once_and_the_confirmation_is_queued(
        self, client: FlaskClient
    ) -> None:
        response = submit(client)
        assert response.status_code == 200
        db.session.remove()
        reader = db.session.execute(db.select(Subscriber)).scalar_one()
        assert reader.status == SubscriberStatus.PENDING
        assert reader.confirmation_sent_at is None


def test_a_relay_that_defers_the_confirmation_gets_it_on_the_retry(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    reader = Subscriber(email="lea@example.org", status=SubscriberStatus.PENDING)
    db.session.add(reader)
    db.session.commit()
    task = app.extensions["celery"].tasks["subscriptions.send_confirmation"]
    smtp_sink.rcpt_policy = lambda address: "451 4.3.0 try again later"
    with pytest.raises(Retry):  # scheduled again with backoff, not failed
        task.apply(args=[reader.id])
    assert smtp_sink.messages == []
    smtp_sink.rcpt_policy = None
    assert task.apply(args=[reader.id]).state == "SUCCESS"
    assert len(smtp_sink.wait_for("lea@example.org")) == 1


def test_the_form_is_in_french_by_default(client: FlaskClient) -> None:
    french = client.get("/").get_data(as_text=True)
    assert "Notre newsletter, région par région" in french and "Toutes les régions" in french
    assert "Moyen-Orient" in french


def test_the_form_is_in_english_on_request(client: FlaskClient) -> None:
    english = client.get("/subscribe?lang=en").get_data(as_text=True)
    assert "Our newsletter, region by region" in english and "All regions" in english
    assert "Middle East" in english
