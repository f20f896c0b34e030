"""Editors keep an edition out of the public archive (and bring it back) from its page.

Hidden, it is absent from the archive's pages, its region pages and its feeds, and its page
is a 404; the subscription form's "see a recent letter" leads to the newest edition shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import feedparser
import pytest
from flask import Flask
from flask.testing import FlaskClient

from newsletter.admin.audit import AuditAction
from newsletter.digests.editions import create_special
from newsletter.models import Digest, Subscriber, db
from newsletter.models.editor import AuditEntry
from tests.admin.test_editions import csrf_in, flashes
from tests.digests.conftest import SAMPLE_SINCE, SAMPLE_UNTIL
from tests.support.editors import log_in_editor
from tests.support.smtp import SmtpSink


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink) -> dict[str, Any]:
    return {"SMTP_URL": smtp_sink.url, "SEND_RATE_PER_SECOND": 0.0}


@pytest.fixture
def two_sent(
    app: Flask, sample_articles: None, make_reader: Callable[..., Subscriber]
) -> tuple[Digest, Digest]:
    """Two special editions sent for real to a named reader of Russia and Africa."""
    make_reader("russie", "afrique", name="Awa Diallo")
    older = create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL).digest
    newer = create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL).digest
    return older, newer


def hide(editor: FlaskClient, digest: Digest, hidden: str = "1") -> Any:
    url = f"/admin/digests/{digest.id}/archive"
    page = editor.get(f"/admin/digests/{digest.id}").get_data(as_text=True)
    return editor.post(
        url,
        data={"csrf_token": csrf_in(page, url), "hidden": hidden},
        follow_redirects=True,
    )


def everywhere(client: FlaskClient, digest: Digest) -> list[str]:
    """The archive pages and feeds that list editions, wherever this one appears."""
    found = []
    for url in ("/archive/", "/archive/russie/", "/archive/afrique/", "/archive/?lang=en"):
        if re.search(rf'href="/archive/([a-z-]+/)?{digest.id}/', client.get(url).get_data(True)):
            found.append(url)
    for url in ("/archive/feed.atom", "/archive/russie/feed.atom", "/archive/afrique/feed.atom"):
        feed = feedparser.parse(client.get(url).get_data())
        assert not feed.bozo
        if any(entry.link.endswith(f"/{digest.id}/") for entry in feed.entries):
            found.append(url)
    return found


def test_a_hidden_edition_is_absent_from_the_pages_and_the_feeds_and_its_page_is_a_404(
    client: FlaskClient, two_sent: tuple[Digest, Digest]
) -> None:
    older, newer = two_sent
    stranger = client.application.test_client()
    assert len(everywhere(stranger, newer)) == 7
    editor = log_in_editor(client)

    hidden = hide(editor, newer)

    assert hidden.status_code == 200
    assert flashes(hidden.get_data(as_text=True)) == [
        "Cette édition est masquée des archives publiques."
    ]
    assert everywhere(stranger, newer) == []
    assert len(everywhere(stranger, older)) == 7
    for url in (f"/archive/{newer.id}/", f"/archive/russie/{newer.id}/"):
        assert stranger.get(url).status_code == 404
    [entry] = db.session.execute(db.select(AuditEntry)).scalars()
    assert (entry.action, entry.detail) == (AuditAction.ARCHIVE_HIDDEN, f"édition {newer.id}")
    assert entry.editor_email == "chef@revue-internationale.example"


def test_an_editor_shows_a_hidden_edition_again_and_a_repeated_click_changes_nothing(
    client: FlaskClient, two_sent: tuple[Digest, Digest]
) -> None:
    _older, newer = two_sent
    editor = log_in_editor(client)
    hide(editor, newer)
    hide(editor, newer)  # a stale page or a double click: still hidden, logged once
    page = editor.get(f"/admin/digests/{newer.id}").get_data(as_text=True)
    assert "Afficher dans les archives" in page and "Masquer des archives" not in page

    shown = hide(editor, newer, "0")

    assert "Masquer des archives" in shown.get_data(as_text=True)
    assert client.application.test_client().get(f"/archive/{newer.id}/").status_code == 200
    actions = db.session.execute(db.select(AuditEntry.action).order_by(AuditEntry.id)).scalars()
    assert list(actions) == [AuditAction.ARCHIVE_HIDDEN, AuditAction.ARCHIVE_SHOWN]


def test_the_toggle_needs_a_logged_in_editor_the_forms_token_and_a_clear_choice(
    client: FlaskClient, two_sent: tuple[Digest, Digest]
) -> None:
    _older, newer = two_sent
    url = f"/admin/digests/{newer.id}/archive"
    editor = log_in_editor(client)
    page = editor.get(f"/admin/digests/{newer.id}").get_data(as_text=True)
    token = csrf_in(page, url)
    missing = "/admin/digests/999999/archive"
    assert editor.post(missing, data={"hidden": "1", "csrf_token": token}).status_code == 404

    assert editor.post(url, data={"hidden": "1"}).status_code == 400
    assert editor.post(url, data={"hidden": "1", "csrf_token": "forged"}).status_code == 400
    for value in ("", "yes", "2", "\x00"):
        assert editor.post(url, data={"hidden": value, "csrf_token": token}).status_code == 400
    assert editor.post(url, data={"csrf_token": token}).status_code == 400
    assert editor.get(url).status_code == 405
    # A stranger, even holding a form's token, is sent to the login: tests/admin/
    # test_console_guards.py walks every console route, this one included.
    stranger = client.application.test_client()
    assert stranger.post(url, data={"hidden": "1"}).status_code in (302, 400)
    db.session.refresh(newer)
    assert newer.archive_hidden is False
    assert db.session.execute(db.select(AuditEntry)).first() is None


def test_the_subscription_form_links_to_the_newest_edition_in_the_archive(
    client: FlaskClient, two_sent: tuple[Digest, Digest]
) -> None:
    older, newer = two_sent

    form = client.get("/").get_data(as_text=True)
    assert f'<a href="/archive/{newer.id}/">Voir une lettre récente</a>' in form
    english = client.get("/?lang=en").get_data(as_text=True)
    assert f'<a href="/archive/{newer.id}/?lang=en">See a recent letter</a>' in english

    hide(log_in_editor(client), newer)
    assert f'href="/archive/{older.id}/"' in client.get("/").get_data(as_text=True)


def test_the_subscription_form_has_no_such_link_before_any_edition_is_sent(
    app: Flask, client: FlaskClient
) -> None:
    form = client.get("/?lang=en").get_data(as_text=True)
    assert "/archive/" not in form and "See a recent letter" not in form
