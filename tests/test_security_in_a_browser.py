"""Under the Content-Security-Policy, in a real Chromium: the editors' preview still shows the
digest in its frame and the expired-link page still renews, with no violation reported."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from newsletter.digests.editions import create_special
from newsletter.ingest.feeds import ingest_file
from newsletter.models import Digest, Editor, Subscriber, SubscriberStatus, db
from newsletter.subscriptions import tokens
from tests.digests.conftest import SAMPLE_FEED, SAMPLE_SINCE, SAMPLE_UNTIL
from tests.subscriptions.test_manage_links import signed_ago
from tests.support.browser import csp_violations, log_in
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.browser

DAY = 86400
EDITOR, PASSWORD = "chef@revue-internationale.example", "a long enough password"


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink, live_port: int) -> dict[str, Any]:
    return {"SMTP_URL": smtp_sink.url, "BASE_URL": f"http://127.0.0.1:{live_port}"}


def log_in_as_editor(page: Any, live_url: str) -> None:
    """An editor made here, logged in through the real form."""
    editor = Editor(email=EDITOR)
    editor.set_password(PASSWORD)
    db.session.add(editor)
    db.session.commit()
    log_in(page, live_url, EDITOR, PASSWORD)


def test_the_editors_preview_shows_the_digest_in_its_frame_under_the_policy(
    page: Any, live_url: str, console: list[str]
) -> None:
    ingest_file(SAMPLE_FEED)
    digest = create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL).digest
    log_in_as_editor(page, live_url)
    page.goto(f"{live_url}/admin/digests/preview?digest={digest.id}&regions=afrique")
    frame = page.frame_locator("iframe.preview")
    frame.locator("text=La Revue Internationale").first.wait_for()

    assert frame.locator(".container").count() == 1
    assert csp_violations(console) == []


def test_an_expired_manage_link_is_renewed_from_the_browser_under_the_policy(
    app: Flask, page: Any, live_url: str, console: list[str], smtp_sink: SmtpSink
) -> None:
    reader = Subscriber(email="lea@example.org", status=SubscriberStatus.CONFIRMED)
    db.session.add(reader)
    db.session.commit()
    old = signed_ago(app, tokens.Purpose.MANAGE, reader.id, 61 * DAY)

    page.goto(f"{live_url}/manage/{old}")
    assert page.inner_text("h1") == "Ce lien a expiré"
    page.click("text=M'envoyer un nouveau lien")
    page.wait_for_selector("text=Vérifiez votre boîte de réception")

    assert len(smtp_sink.wait_for("lea@example.org")) == 1
    assert csp_violations(console) == []


def test_a_special_edition_is_previewed_in_the_frame_beside_its_form_before_it_exists(
    page: Any, live_url: str, console: list[str]
) -> None:
    ingest_file(SAMPLE_FEED)
    log_in_as_editor(page, live_url)
    page.goto(f"{live_url}/admin/digests/special")
    page.check("input[value=afrique]")
    page.fill("#since", SAMPLE_SINCE.date().isoformat())
    page.fill("#until", SAMPLE_UNTIL.date().isoformat())
    page.click("button:has-text('Aperçu')")
    frame = page.frame_locator("iframe[name=special-preview]")
    frame.locator("text=La Revue Internationale").first.wait_for()

    assert page.url == f"{live_url}/admin/digests/special"  # the form stays, filled in
    assert page.input_value("#since") == SAMPLE_SINCE.date().isoformat()
    assert frame.locator(".container").count() == 1
    assert db.session.execute(db.select(Digest)).first() is None
    assert csp_violations(console) == []
