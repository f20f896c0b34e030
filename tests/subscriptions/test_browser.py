"""A reader's whole journey in a real Chromium, against the real app and a real SMTP server."""

from __future__ import annotations

from typing import Any

import pytest

from newsletter.models import ConsentEvent, ConsentKind, Subscriber, SubscriberStatus, db
from tests.subscriptions.conftest import link_in
from tests.support.browser import csp_violations
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.browser


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink, live_port: int) -> dict[str, Any]:
    # Links in emails must point at the server the browser talks to.
    return {"SMTP_URL": smtp_sink.url, "BASE_URL": f"http://127.0.0.1:{live_port}"}


def reader(email: str) -> Subscriber:
    db.session.remove()  # the server's threads committed in their own sessions
    return db.session.execute(db.select(Subscriber).where(Subscriber.email == email)).scalar_one()


def consent_kinds(subscriber_id: int) -> list[ConsentKind]:
    query = db.select(ConsentEvent.kind).where(ConsentEvent.subscriber_id == subscriber_id)
    return list(db.session.execute(query.order_by(ConsentEvent.id)).scalars())


def test_a_reader_subscribes_confirms_changes_regions_and_unsubscribes_in_a_browser(
    page: Any, live_url: str, smtp_sink: SmtpSink, console: list[str]
) -> None:
    page.goto(live_url + "/")
    page.fill("#email", "Camille@Example.ORG")
    page.fill("#name", "Camille")
    page.check("input[name=regions][value=asie]")
    page.check("input[name=regions][value=afrique]")
    page.click("button[type=submit]")
    page.wait_for_selector("h1")
    assert "Vérifiez votre boîte de réception" in page.inner_text("h1")

    subscriber = reader("camille@example.org")
    assert subscriber.status == SubscriberStatus.PENDING
    assert subscriber.region_slugs == ["asie", "afrique"]
    assert subscriber.language == "fr"

    confirmation = smtp_sink.wait_for("camille@example.org")[0]
    assert "Camille" not in confirmation.data.decode("utf-8", "replace")
    page.goto(link_in(confirmation, "/confirm"))
    assert reader("camille@example.org").status == SubscriberStatus.PENDING  # GET changed nothing
    page.click("button[type=submit]")
    page.wait_for_selector("text=Votre inscription est confirmée")
    subscriber = reader("camille@example.org")
    assert subscriber.status == SubscriberStatus.CONFIRMED
    assert subscriber.confirmed_at is not None

    page.click("text=Choisir vos régions et votre langue")
    page.wait_for_selector("text=Vos préférences")
    page.uncheck("input[name=regions][value=afrique]")
    page.check("input[name=regions][value=russie]")
    page.check("input[name=language][value=en]")
    page.click("text=Enregistrer mes préférences")
    page.wait_for_selector("text=Your preferences are saved.")
    subscriber = reader("camille@example.org")
    assert subscriber.region_slugs == ["russie", "asie"]
    assert subscriber.language == "en"

    page.click("text=Unsubscribe me")
    page.wait_for_selector("text=You are unsubscribed")
    subscriber = reader("camille@example.org")
    assert subscriber.status == SubscriberStatus.UNSUBSCRIBED
    assert consent_kinds(subscriber.id) == [
        ConsentKind.SUBSCRIBE,
        ConsentKind.CONFIRM,
        ConsentKind.CHANGE,
        ConsentKind.UNSUBSCRIBE,
    ]
    # Every page did its work under the Content-Security-Policy, with nothing blocked.
    assert csp_violations(console) == []
