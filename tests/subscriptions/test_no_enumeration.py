"""The answer to a subscription says nothing about the address's state."""

from __future__ import annotations

from flask.testing import FlaskClient

from newsletter.models import Region, Subscriber, SubscriberStatus, db
from tests.subscriptions.conftest import link_in, submit
from tests.support.smtp import SmtpSink

STATES = {
    "pending@example.org": SubscriberStatus.PENDING,
    "confirmed@example.org": SubscriberStatus.CONFIRMED,
    "left@example.org": SubscriberStatus.UNSUBSCRIBED,
}


def existing_readers() -> None:
    asie = db.session.execute(db.select(Region).where(Region.slug == "asie")).scalar_one()
    for email, status in STATES.items():
        db.session.add(Subscriber(email=email, status=status, regions=[asie], name="Old"))
    db.session.commit()


def status_of(email: str) -> SubscriberStatus:
    db.session.remove()
    query = db.select(Subscriber.status).where(Subscriber.email == email)
    return db.session.execute(query).scalar_one()


def test_the_form_answers_byte_for_byte_the_same_whatever_the_state(
    client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    existing_readers()
    answers = {
        email: submit(client, email=email, name="Mallory <b>buy pills</b>")
        for email in ["new@example.org", *STATES]
    }
    first = answers["new@example.org"]
    assert first.status_code == 200
    for response in answers.values():
        assert response.status_code == first.status_code
        assert response.content_type == first.content_type
        assert response.get_data() == first.get_data()

    # Behind the identical page, each reader got what their state calls for.
    for email in ["new@example.org", "pending@example.org", "left@example.org"]:
        (mail,) = smtp_sink.wait_for(email)
        assert "/confirm/" in link_in(mail, "/confirm")
        assert "Mallory" not in mail.data.decode("utf-8", "replace")
    (mail,) = smtp_sink.wait_for("confirmed@example.org")
    assert mail.message["Subject"].startswith("Vous êtes déjà inscrit")
    assert "/confirm/" not in mail.data.decode()
    link_in(mail, "/manage")
    assert status_of("confirmed@example.org") == SubscriberStatus.CONFIRMED
    assert status_of("left@example.org") == SubscriberStatus.PENDING  # must confirm again


def test_the_api_answers_byte_for_byte_the_same_whatever_the_state(
    client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    existing_readers()
    answers = [
        client.post(
            "/api/v1/subscriptions",
            json={"email": email, "regions": ["all"], "language": "en"},
        )
        for email in ["new@example.org", *STATES]
    ]
    assert {response.status_code for response in answers} == {202}
    assert len({response.get_data() for response in answers}) == 1
    assert "an email is on its way" in answers[0].get_json()["message"]
    assert len(smtp_sink.wait_for("new@example.org")) == 1
