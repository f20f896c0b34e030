"""Editors preview what a reader would get, mail themselves a test, start a special edition;
readers open the signed web copy of their digest."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from newsletter.digests.editions import create_special
from newsletter.digests.links import view_url
from newsletter.models import Digest, Subscriber, db
from tests.digests.conftest import SAMPLE_SINCE, SAMPLE_UNTIL
from tests.support.editors import log_in_editor
from tests.support.smtp import SmtpSink

HOSTILE_FREE = "Le Mali quitte le G5 Sahel"


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink) -> dict[str, Any]:
    return {"SMTP_URL": smtp_sink.url, "SEND_RATE_PER_SECOND": 0.0}


@pytest.fixture
def editor_client(client: FlaskClient) -> FlaskClient:
    return log_in_editor(client)


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html
    )
    assert found, "no CSRF token in the page"
    return found.group(1)


def stored_special(app: Flask) -> Digest:
    return create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL).digest


def test_the_preview_shows_the_readers_email_in_a_sandboxed_frame(
    app: Flask, editor_client: FlaskClient, sample_articles: None
) -> None:
    digest = stored_special(app)
    query = f"?digest={digest.id}&regions=afrique&regions=moyen-orient&language=en"

    page = editor_client.get(f"/admin/digests/preview{query}")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Africa, Middle East: 3 articles — Special edition" in html
    frame = re.search(r"<iframe[^>]*>", html).group(0)
    assert 'sandbox=""' in frame and "allow-scripts" not in frame
    assert HOSTILE_FREE in html  # the text part, shown as text
    inner = editor_client.get(f"/admin/digests/preview/frame{query}")
    assert inner.status_code == 200
    assert "script-src" not in inner.headers["Content-Security-Policy"]
    assert "default-src 'none'" in inner.headers["Content-Security-Policy"]
    assert HOSTILE_FREE in inner.get_data(as_text=True)
    assert "16 May 2022" in inner.get_data(as_text=True)


def test_the_preview_says_when_a_reader_would_get_nothing(
    app: Flask, editor_client: FlaskClient, sample_articles: None
) -> None:
    digest = stored_special(app)

    page = editor_client.get(f"/admin/digests/preview?digest={digest.id}&regions=asie")

    assert "ce lecteur ne recevrait pas de lettre" in page.get_data(as_text=True)
    assert (
        editor_client.get(
            f"/admin/digests/preview/frame?digest={digest.id}&regions=asie"
        ).status_code
        == 404
    )


def test_an_editor_mails_a_test_of_what_a_reader_would_get(
    app: Flask, editor_client: FlaskClient, sample_articles: None, smtp_sink: SmtpSink
) -> None:
    digest = stored_special(app)
    page = editor_client.get(f"/admin/digests/preview?digest={digest.id}&regions=afrique")

    sent = editor_client.post(
        "/admin/digests/test",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "email": "chef@revue-internationale.example",
            "regions": ["afrique"],
            "language": "fr",
            "digest": str(digest.id),
        },
    )

    assert sent.status_code == 302
    [received] = smtp_sink.to("chef@revue-internationale.example")
    message = received.message
    assert message["Subject"] == "[Test] Afrique : 1 article — Édition spéciale"
    assert HOSTILE_FREE in message.get_body(("plain",)).get_content()


def test_a_test_send_without_the_forms_token_is_refused(
    editor_client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    response = editor_client.post(
        "/admin/digests/test", data={"email": "x@example.org", "regions": ["afrique"]}
    )

    assert response.status_code in {302, 400}
    assert smtp_sink.messages == []


def test_an_editor_starts_a_special_edition_once_even_when_submitting_twice(
    app: Flask,
    editor_client: FlaskClient,
    sample_articles: None,
    smtp_sink: SmtpSink,
    make_reader: Callable[..., Subscriber],
) -> None:
    reader = make_reader("afrique")
    page = editor_client.get("/admin/digests/special").get_data(as_text=True)
    key = re.search(r'name="request_key" type="hidden" value="([^"]+)"', page).group(1)
    form = {
        "csrf_token": csrf_token(page),
        "request_key": key,
        "regions": ["afrique"],
        "since": "2022-05-01",
        "until": "2022-05-31",
        "intro": "Le Sahel.",
    }

    first = editor_client.post("/admin/digests/special", data=form)
    second = editor_client.post("/admin/digests/special", data=form)

    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    [digest] = db.session.execute(db.select(Digest)).scalars().all()
    assert digest.created_by == "chef@revue-internationale.example"
    assert len(smtp_sink.to(reader.email)) == 1
    shown = editor_client.get(first.headers["Location"]).get_data(as_text=True)
    assert "<h1>Édition spéciale du " in shown and "terminée" in shown


def test_digest_pages_need_a_logged_in_editor(client: FlaskClient) -> None:
    for path in ("/admin/digests/preview", "/admin/digests/special", "/admin/digests/1"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/admin/login" in response.headers["Location"]


def test_the_view_in_browser_link_shows_the_digest_without_the_readers_links(
    app: Flask, client: FlaskClient, sample_articles: None
) -> None:
    digest = stored_special(app)
    url = view_url(digest.id, ("afrique",), "fr")

    response = client.get(url.removeprefix(app.config["BASE_URL"]))

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert HOSTILE_FREE in html and "Bonjour," in html
    assert "unsubscribe" not in html and "nlmark" not in html
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_a_tampered_view_in_browser_link_is_not_found(
    app: Flask, client: FlaskClient, sample_articles: None
) -> None:
    digest = stored_special(app)
    url = view_url(digest.id, ("afrique",), "fr").removeprefix(app.config["BASE_URL"])
    forged = view_url(digest.id, ("russie",), "fr").removeprefix(app.config["BASE_URL"])
    head, _, _ = url.rpartition(".")
    _, _, signature = forged.rpartition(".")

    assert client.get(f"{head}.{signature}").status_code == 404
    assert client.get("/digests/view/nonsense").status_code == 404
