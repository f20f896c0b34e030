"""A special edition is previewed from its form before it exists: nothing stored, nothing sent."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from newsletter.models import Digest, db
from newsletter.models.editor import AuditEntry
from tests.admin.test_special_form import form
from tests.delivery.seed import WINDOW_END, WINDOW_START, seed_articles
from tests.support.editors import log_in_editor
from tests.support.smtp import SmtpSink

PREVIEW = "/admin/digests/special/preview"
# The window of the seeded articles, as the form's days (the last one included).


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink) -> dict[str, Any]:
    return {"SMTP_URL": smtp_sink.url}


DAYS = {"since": WINDOW_START.date().isoformat(), "until": WINDOW_END.date().isoformat()}


def test_the_preview_shows_the_edition_the_form_describes_and_stores_and_sends_nothing(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    seed_articles()
    log_in_editor(client)
    fields = {
        **form(client),
        **DAYS,
        "regions": ["asie", "afrique"],
        "intro": "Pourquoi <ce> numéro",
    }

    response = client.post(PREVIEW, data=fields)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Pourparlers Asie 0" in page and "Pourparlers Afrique 1" in page
    assert "Pourparlers Russie" not in page  # a region the form left unchecked
    assert "Pourquoi &lt;ce&gt; numéro" in page  # the intro, as text
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    assert db.session.execute(db.select(Digest)).first() is None
    assert smtp_sink.messages == []


def test_the_preview_speaks_the_language_asked_for(app: Flask, client: FlaskClient) -> None:
    seed_articles(slugs=["asie"])
    log_in_editor(client)
    fields = {**form(client), **DAYS, "regions": "asie"}

    french = client.post(PREVIEW, data={**fields, "preview_language": "fr"})
    english = client.post(PREVIEW, data={**fields, "preview_language": "en"})

    assert french.get_data(as_text=True) != english.get_data(as_text=True)
    assert 'lang="en"' in english.get_data(as_text=True)


def test_a_window_without_news_or_a_wrong_form_says_so_in_the_frame(
    app: Flask, client: FlaskClient
) -> None:
    log_in_editor(client)

    empty = client.post(PREVIEW, data={**form(client), **DAYS, "regions": "asie"})
    reversed_window = client.post(
        PREVIEW, data={**form(client), "since": "2026-12-10", "until": "2026-12-01"}
    )

    assert "Rien de nouveau pour ces régions" in empty.get_data(as_text=True)
    assert reversed_window.status_code == 400
    assert "Corrigez le formulaire" in reversed_window.get_data(as_text=True)


def test_the_preview_needs_an_editor_and_the_form_token(app: Flask, client: FlaskClient) -> None:
    seed_articles(slugs=["asie"])
    log_in_editor(client)
    fields = {**form(client), **DAYS, "regions": "asie"}
    forged = client.post(PREVIEW, data={**fields, "csrf_token": "forged"})
    client.post("/admin/logout", data={"csrf_token": fields["csrf_token"]})
    anonymous = client.post(PREVIEW, data=fields)

    assert forged.status_code == 400
    assert "Pourparlers" not in forged.get_data(as_text=True)
    assert anonymous.status_code in (302, 303, 400)
    assert "Pourparlers" not in anonymous.get_data(as_text=True)


def test_the_form_offers_the_preview_beside_the_send_button(
    app: Flask, client: FlaskClient
) -> None:
    log_in_editor(client)

    page = client.get("/admin/digests/special").get_data(as_text=True)

    assert f'formaction="{PREVIEW}"' in page and 'formtarget="special-preview"' in page
    assert '<iframe class="preview" name="special-preview"' in page


def test_making_a_special_edition_and_a_test_send_are_written_in_the_audit_log(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    seed_articles(slugs=["asie"])
    log_in_editor(client)
    made = client.post("/admin/digests/special", data={**form(client), **DAYS, "regions": "asie"})
    digest = db.session.execute(db.select(Digest)).scalar_one()
    preview = client.get(f"/admin/digests/preview?digest={digest.id}&regions=asie")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', preview.text)
    assert token
    client.post(
        "/admin/digests/test",
        data={
            "csrf_token": token.group(1),
            "email": "relecture@revue-internationale.example",
            "regions": "asie",
            "language": "fr",
            "digest": str(digest.id),
        },
    )

    assert made.status_code == 302
    entries = db.session.execute(db.select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    assert [(e.action, e.editor_email) for e in entries] == [
        ("special_edition_created", "chef@revue-internationale.example"),
        ("test_sent", "chef@revue-internationale.example"),
    ]
    assert entries[0].detail == digest.edition_key
    assert entries[1].detail == "relecture@revue-internationale.example (asie, fr)"
