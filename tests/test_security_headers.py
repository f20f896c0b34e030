"""Security headers on every response (pages, API, errors, static); no-store on private pages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter

from newsletter.digests.editions import create_special
from newsletter.ingest.feeds import ingest_file
from newsletter.models import Subscriber, SubscriberStatus, db
from newsletter.subscriptions import tokens
from tests.digests.conftest import SAMPLE_FEED, SAMPLE_SINCE, SAMPLE_UNTIL
from tests.support.editors import log_in_editor

FRAMES = {"admin.digest_preview_frame", "devmail.html"}


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    # Development mode: the dev mailbox's pages are routes too.
    return {"NEWSLETTER_ENV": "development"}


def every_route(app: Flask) -> list[tuple[str, str]]:
    """(endpoint, URL) for each rule, arguments filled with harmless values."""
    routes = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            values = {
                name: 1 if isinstance(converter, IntegerConverter) else "x"
                for name, converter in (rule._converters or {}).items()
            }
            routes.append((rule.endpoint, url_for(rule.endpoint, **values)))
    return routes


def get(client: FlaskClient, url: str) -> Any:
    """The whole answer, its file closed (static files are streamed from disk)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def policy(response: Any) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    parts = (part.strip().partition(" ") for part in header.split(";") if part.strip())
    return {name: value.strip() for name, _, value in parts}


def assert_secured(response: Any, *, framable: bool = False) -> None:
    csp = policy(response)
    assert csp["frame-ancestors"] == ("'self'" if framable else "'none'")
    assert response.headers["X-Frame-Options"] == ("SAMEORIGIN" if framable else "DENY")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    # No script runs from the page itself: not inline, not from elsewhere.
    scripts = csp.get("script-src", csp["default-src"])
    assert "'unsafe-inline'" not in scripts and "http" not in scripts and "*" not in scripts


@pytest.mark.parametrize("who", ["anonymous", "editor"])
def test_every_route_answers_with_the_security_headers(
    app: Flask, client: FlaskClient, who: str
) -> None:
    if who == "editor":
        log_in_editor(client)
    routes = every_route(app)
    assert len(routes) > 30
    for endpoint, url in [*routes, ("(none)", "/no-such-page")]:
        response = get(client, url)
        assert response.status_code < 500, url
        assert_secured(response, framable=endpoint in FRAMES)


def test_a_404_and_a_refused_api_call_carry_the_headers(client: FlaskClient) -> None:
    missing = client.get("/no-such-page")
    refused = client.get("/api/v1/articles")
    assert (missing.status_code, refused.status_code) == (404, 401)
    for response in (missing, refused):
        assert_secured(response)
    assert refused.headers["Cache-Control"] == "no-store"


def test_our_pages_need_no_inline_script_or_style(app: Flask, client: FlaskClient) -> None:
    log_in_editor(client)
    csp = policy(client.get("/"))
    assert csp["script-src"] == csp["style-src"] == "'self'"
    for endpoint, url in every_route(app):
        if endpoint in FRAMES or endpoint in {"static", "digests.view"}:
            continue
        html = get(client, url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", html), url


def test_only_the_preview_frame_may_be_framed_and_only_by_our_own_pages(
    app: Flask, client: FlaskClient
) -> None:
    ingest_file(SAMPLE_FEED)
    digest = create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL).digest
    log_in_editor(client)
    query = f"?digest={digest.id}&regions=afrique&language=fr"

    page = client.get(f"/admin/digests/preview{query}")
    frame = client.get(f"/admin/digests/preview/frame{query}")

    assert page.status_code == frame.status_code == 200
    assert_secured(page)
    assert_secured(frame, framable=True)
    # The email's HTML: inline styles only, no script at all.
    assert policy(frame)["default-src"] == "'none'"
    assert "script-src" not in policy(frame)
    assert frame.headers["Cache-Control"] == "no-store"


def test_pages_with_personal_data_are_never_stored_static_files_are(
    app: Flask, client: FlaskClient
) -> None:
    reader = Subscriber(email="lea@example.org", status=SubscriberStatus.CONFIRMED)
    db.session.add(reader)
    db.session.commit()
    links = tokens.reader_links(reader.id)
    manage = links.manage_url.removeprefix(app.config["BASE_URL"])
    private = [
        manage,
        manage + "/data.json",
        links.unsubscribe_url.removeprefix(app.config["BASE_URL"]),
        tokens.confirm_url(reader.id, reader.token_nonce).removeprefix(app.config["BASE_URL"]),
        tokens.erase_url(reader.id, reader.token_nonce).removeprefix(app.config["BASE_URL"]),
        "/admin/login",
        "/admin/",
        "/api/v1/articles",
        "/dev/mailbox/",
    ]
    for url in private:
        assert client.get(url).headers["Cache-Control"] == "no-store", url
    assert client.get(manage + "/data.json").get_json()["email"] == "lea@example.org"
    static = get(client, "/static/site.css")
    assert static.status_code == 200
    assert "no-store" not in static.headers.get("Cache-Control", "")


def test_without_https_there_is_no_hsts_and_the_session_cookie_keeps_its_flags(
    client: FlaskClient,
) -> None:
    for url in ("/", "/static/site.css", "/no-such-page"):
        assert "Strict-Transport-Security" not in get(client, url).headers
    client.get("/")  # the form puts its CSRF secret in the session
    response = client.get("/")
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert not cookie.secure and cookie.http_only and cookie.same_site == "Lax"
    assert response.status_code == 200


class TestBehindHttps:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {"BASE_URL": "https://newsletter.example"}

    def test_hsts_is_on_every_response_and_nothing_redirects(self, client: FlaskClient) -> None:
        # TLS ends at the proxy: the request arrives as plain HTTP and is answered as is.
        for url in ("/", "/static/site.css", "/no-such-page", "/api/v1/articles"):
            response = get(client, url)
            assert response.status_code in {200, 401, 404}, url
            assert response.headers["Strict-Transport-Security"].startswith("max-age="), url
