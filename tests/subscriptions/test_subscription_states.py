"""The double opt-in's states: a link confirms what it was sent for, and no more.

A second submission for a pending address cannot change what an earlier link confirms;
bounced, complained and blocked addresses get the same answer as anyone and no email;
an erased reader may come back through double opt-in; addresses are checked against
RFC 5321's limits and the relay's abilities.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from newsletter.models import (
    Subscriber,
    SubscriberStatus,
    Suppression,
    SuppressionReason,
    db,
    utcnow,
)
from newsletter.subscriptions.addresses import email_hmac
from tests.subscriptions.conftest import csrf_token, link_in, page_text, submit
from tests.support.smtp import SmtpSink


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink, request: pytest.FixtureRequest) -> dict[str, Any]:
    # Room for several requests per address: these tests are about states, not the cap.
    extra = getattr(request, "param", {})
    return {"SMTP_URL": smtp_sink.url, "ADDRESS_MAIL_LIMIT": "100 per minute", **extra}


def confirm_path(smtp_sink: SmtpSink, email: str, count: int = 1) -> str:
    message = smtp_sink.wait_for(email, count=count)[count - 1]
    return urlsplit(link_in(message, "/confirm")).path


def reader(email: str) -> Subscriber | None:
    db.session.remove()
    return db.session.execute(
        db.select(Subscriber).where(Subscriber.email == email)
    ).scalar_one_or_none()


def click_confirm(client: FlaskClient, path: str) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(client)})


def test_the_confirm_page_shows_what_the_link_confirms_before_the_button(
    client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    submit(client, email="lea@example.org", name="Léa", regions=["asie", "russie"])
    page = page_text(client.get(confirm_path(smtp_sink, "lea@example.org")))
    assert "Léa" in page
    assert "Russie" in page and "Asie" in page
    assert "Français" in page
    assert page.index("Asie") < page.index("Confirmer mon inscription")


def test_a_later_submission_cannot_change_what_an_earlier_link_confirms(
    client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    submit(client, email="lea@example.org", name="Léa", regions=["asie"])
    first = confirm_path(smtp_sink, "lea@example.org")
    # Someone else submits the same address with other details.
    submit(client, email="lea@example.org", name="Spam Inc", regions=["russie"], language="en")
    second = confirm_path(smtp_sink, "lea@example.org", count=2)

    refused = click_confirm(client, first)
    assert refused.status_code == 400
    after_first = reader("lea@example.org")
    assert after_first is not None and after_first.status == SubscriberStatus.PENDING

    # The newer link shows the newer details, so the reader sees them before confirming.
    shown = page_text(client.get(second))
    assert "Spam Inc" in shown and "Russia" in shown
    assert click_confirm(client, second).status_code == 200
    confirmed = reader("lea@example.org")
    assert confirmed is not None and confirmed.status == SubscriberStatus.CONFIRMED
    assert (confirmed.name, confirmed.region_slugs) == ("Spam Inc", ["russie"])


@pytest.mark.parametrize("status", [SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED])
def test_bounced_and_complained_readers_get_the_usual_answer_and_no_email(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink, status: SubscriberStatus
) -> None:
    db.session.add(Subscriber(email="gone@example.org", status=status))
    db.session.commit()
    fresh = submit(client, email="new@example.org")
    again = submit(client, email="gone@example.org")
    assert (again.status_code, again.get_data()) == (fresh.status_code, fresh.get_data())
    smtp_sink.wait_for("new@example.org")
    assert smtp_sink.to("gone@example.org") == []
    kept = reader("gone@example.org")
    assert kept is not None and kept.status == status


@pytest.mark.parametrize(
    "reason",
    [SuppressionReason.HARD_BOUNCE, SuppressionReason.COMPLAINT, SuppressionReason.MANUAL],
)
def test_a_suppressed_address_is_not_signed_up_again_until_an_editor_lifts_it(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink, reason: SuppressionReason
) -> None:
    db.session.add(Suppression(email_hmac=email_hmac("gone@example.org"), reason=reason))
    db.session.commit()
    assert submit(client, email="gone@example.org").status_code == 200
    api = client.post(
        "/api/v1/subscriptions", json={"email": "gone@example.org", "regions": ["asie"]}
    )
    assert api.status_code == 202
    assert reader("gone@example.org") is None

    result = app.test_cli_runner().invoke(args=["subscribers", "unsuppress", "Gone@Example.org"])
    assert result.exit_code == 0, result.output
    assert "may subscribe again" in result.output
    submit(client, email="gone@example.org")
    smtp_sink.wait_for("gone@example.org")
    assert smtp_sink.to("gone@example.org")[0].message["To"] == "gone@example.org"
    assert smtp_sink.to("new@example.org") == []


def test_lifting_a_suppression_that_does_not_exist_says_so(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["subscribers", "unsuppress", "who@example.org"])
    assert result.exit_code == 1
    assert "not suppressed" in result.output


def test_an_erased_reader_may_come_back_through_double_opt_in(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    db.session.add(
        Suppression(email_hmac=email_hmac("back@example.org"), reason=SuppressionReason.ERASED)
    )
    db.session.commit()
    submit(client, email="back@example.org")
    assert click_confirm(client, confirm_path(smtp_sink, "back@example.org")).status_code == 200
    back = reader("back@example.org")
    assert back is not None and back.status == SubscriberStatus.CONFIRMED


@pytest.mark.parametrize(
    "address",
    [
        "a" * 65 + "@example.org",  # local part over 64 octets
        "é" * 33 + "@example.org",  # 66 octets in UTF-8
        "a" * 64 + "@" + ("b" * 60 + ".") * 3 + "example.org",  # over 254 in all
    ],
)
def test_addresses_beyond_rfc_5321_limits_are_refused(client: FlaskClient, address: str) -> None:
    response = submit(client, email=address)
    assert response.status_code == 400
    assert reader(address.lower()) is None


def test_a_non_ascii_mailbox_is_refused_with_a_clear_message_when_the_relay_lacks_smtputf8(
    client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    response = submit(client, email="élodie@example.org")
    assert response.status_code == 400
    assert "lettres accentuées ou non latines avant le @" in page_text(response)
    api = client.post(
        "/api/v1/subscriptions", json={"email": "élodie@example.org", "regions": ["asie"]}
    )
    assert api.status_code == 400
    assert "email" in api.get_json()["fields"]
    assert reader("élodie@example.org") is None


@pytest.mark.parametrize(
    "app_overrides",
    [{"SMTP_UTF8": "true"}],
    indirect=True,
)
def test_a_non_ascii_mailbox_is_mailed_with_smtputf8_when_the_relay_speaks_it(
    client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    assert submit(client, email="Élodie@example.org").status_code == 200
    (message,) = smtp_sink.wait_for("élodie@example.org")
    assert message.message["To"] == "élodie@example.org"
    assert click_confirm(client, confirm_path(smtp_sink, "élodie@example.org")).status_code == 200


def test_two_requests_for_one_new_address_at_once_both_get_the_usual_answer(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    """The other request's row lands between our look-up and our INSERT (forced here through
    a second connection, as another web process would): no 500, one reader, and its link."""
    from sqlalchemy.orm import Session

    raced = []

    def other_request_commits_first(session: Session, *_: object) -> None:
        if raced:
            return
        raced.append(True)
        with db.engine.begin() as other:
            other.execute(
                sa.insert(Subscriber.__table__).values(
                    email="lea@example.org",
                    status=SubscriberStatus.PENDING.value,
                    language="fr",
                    token_nonce="first-nonce",
                    hard_bounces=0,
                    paused=False,
                    created_at=utcnow(),
                    updated_at=utcnow(),
                )
            )

    sa.event.listen(Session, "before_flush", other_request_commits_first)
    try:
        response = submit(client, email="lea@example.org")
    finally:
        sa.event.remove(Session, "before_flush", other_request_commits_first)
    assert raced and response.status_code == 200
    waiting = reader("lea@example.org")
    assert waiting is not None and waiting.status == SubscriberStatus.PENDING
    assert waiting.region_slugs == ["asie", "afrique"]
    assert click_confirm(client, confirm_path(smtp_sink, "lea@example.org")).status_code == 200
