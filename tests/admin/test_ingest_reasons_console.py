"""Why a feed or a page import failed, in the console's language.

The ingest words its reasons in English and keeps them so (the API and the command line show
them as written); the console says them in French, or in English for an editor who reads it
in English. Every reason the ingest gives, produced for real, has the console's own words.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient

from newsletter.admin.ingest_texts import is_known_ingest_reason
from newsletter.ingest.feeds import IngestOptions
from newsletter.ingest.fetch import FetchError, FetchLimits, fetch
from newsletter.ingest.page import PageError, queue_import, read_page, run_import
from newsletter.ingest.polling import add_feed, poll_feed
from newsletter.models import Feed, PageImport, db
from tests.admin.test_feeds_console import row_of
from tests.conftest import free_port
from tests.ingest.conftest import FIXTURES, LOCAL_FETCHES
from tests.ingest.feedserver import FeedServer, Reply
from tests.ingest.test_broken_feeds import BROKEN, ENCODINGS
from tests.support.editors import log_in_editor

ENGLISH = {"Accept-Language": "en"}
MAX_BYTES = 50_000  # as in test_broken_feeds: its huge replies are over it
HTML_PAGE = BROKEN["HTML page instead of a feed"][0]
NOT_FOUND = BROKEN["404"][0]


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    # Short waits: the slow servers below are cut within a second.
    return {
        **LOCAL_FETCHES,
        "FEED_FETCH_TIMEOUT": 0.2,
        "FEED_FETCH_DEADLINE": 0.5,
        "FEED_MAX_BYTES": MAX_BYTES,
        "FEED_MAX_REDIRECTS": 3,
    }


@pytest.fixture
def editor(app: Flask, client: FlaskClient) -> FlaskClient:
    return log_in_editor(client)


def text_of(client: FlaskClient, path: str, **headers: str) -> str:
    g.pop("csrf_token", None)
    response = client.get(path, headers=headers)
    assert response.status_code == 200, path
    return html.unescape(response.get_data(as_text=True))


def broken_feed(feed_server: FeedServer, path: str, reply: Any) -> Feed:
    feed_server.routes[path] = reply
    feed, _ = add_feed(feed_server.url(path))
    poll_feed(feed.id)
    return feed


def dashboard_errors(page: str) -> str:
    found = re.search(r'<table class="list feeds-in-error">.*?</table>', page, re.S)
    assert found, "no feed in error on the dashboard"
    return found.group(0)


def test_a_broken_feeds_error_is_french_in_the_console_and_english_for_an_english_reader(
    editor: FlaskClient, feed_server: FeedServer
) -> None:
    missing = broken_feed(feed_server, "/missing/", NOT_FOUND)
    page_not_feed = broken_feed(feed_server, "/page/", HTML_PAGE)

    french = text_of(editor, "/admin/feeds")
    english = text_of(editor, "/admin/feeds", **ENGLISH)

    assert "le serveur a répondu HTTP 404 Not Found" in row_of(french, missing.url)
    assert "une page HTML, pas un flux" in row_of(french, page_not_feed.url)
    assert "the server answered HTTP 404 Not Found" in row_of(english, missing.url)
    assert "an HTML page, not a feed" in row_of(english, page_not_feed.url)
    assert "une page HTML, pas un flux" in dashboard_errors(text_of(editor, "/admin/"))
    assert "an HTML page, not a feed" in dashboard_errors(text_of(editor, "/admin/", **ENGLISH))
    # What the feed keeps is the ingest's own words, as the API and the command line show them.
    assert db.session.get(Feed, page_not_feed.id).last_error == "an HTML page, not a feed"


def test_a_feeds_notes_are_said_one_by_one_and_unknown_words_stay_as_written(
    editor: FlaskClient, feed_server: FeedServer
) -> None:
    # Declared UTF-8, written in Windows-1252, and one item without a link: two notes.
    body = (FIXTURES / "feed-items-without-links.rss").read_text("utf-8").encode("cp1252")
    noted = broken_feed(
        feed_server, "/noted/", Reply(body=body, headers={"Content-Type": "text/xml"})
    )
    odd, _ = add_feed("https://odd.example/rss")
    odd.last_error = "the relay said something new; 2 item(s) without a title were skipped"
    db.session.commit()

    french = text_of(editor, "/admin/feeds")
    english = text_of(editor, "/admin/feeds", **ENGLISH)

    assert (
        "l’encodage déclaré UTF-8 ne correspond pas au contenu ; lu en cp1252;"
        " 1 élément sans lien ignoré"
    ) in row_of(french, noted.url)
    assert (
        "declared encoding UTF-8 does not match the content; read as cp1252;"
        " 1 item without a link was skipped"
    ) in row_of(english, noted.url)
    assert "the relay said something new; 2 éléments sans titre ignorés" in row_of(french, odd.url)


def test_a_failed_page_import_says_why_in_the_consoles_language(
    editor: FlaskClient, feed_server: FeedServer
) -> None:
    feed_server.routes["/article/"] = NOT_FOUND
    url = feed_server.url("/article/")
    row = PageImport(source=url)
    db.session.add(row)
    db.session.commit()
    run_import(row.id)

    french = text_of(editor, f"/admin/articles/imports/{row.id}")
    english = text_of(editor, f"/admin/articles/imports/{row.id}", **ENGLISH)

    assert (
        f"Import impossible : récupération de {url} impossible :"
        " le serveur a répondu HTTP 404 Not Found"
    ) in french
    assert f"Import failed: could not fetch {url}: the server answered HTTP 404 Not Found" in (
        english
    )


def test_every_reason_the_ingest_gives_has_words_in_the_console(
    app: Flask, feed_server: FeedServer
) -> None:
    reasons = []
    cases = {**BROKEN, **ENCODINGS}
    for number, (route, _message) in enumerate(cases.values()):
        feed_server.routes["/loop/"] = route  # the redirect loop's target
        feed = broken_feed(feed_server, f"/feed/{number}/", route)
        reasons.append(db.session.get(Feed, feed.id).last_error)
    without_links = (FIXTURES / "feed-no-links-at-all.rss").read_bytes()
    reasons.append(broken_feed(feed_server, "/no-links/", Reply(body=without_links)).last_error)
    with pytest.raises(FetchError) as private:
        fetch(feed_server.url("/feed/0/"), limits=FetchLimits())  # production's limits
    reasons.append(str(private.value))
    with pytest.raises(FetchError) as nobody_listens:
        fetch(f"http://127.0.0.1:{free_port()}/", limits=FetchLimits(allow_private_hosts=True))
    reasons.append(str(nobody_listens.value))
    with pytest.raises(FetchError) as not_http:
        fetch("ftp://www.revue-internationale.example/feed/", limits=FetchLimits())
    reasons.append(str(not_http.value))

    feed_server.routes["/missing/"] = NOT_FOUND
    # A page that answers 404; an upload whose content is gone before the worker reads it.
    for source, uploaded in ((feed_server.url("/missing/"), False), ("page.html", True)):
        row = PageImport(source=source, uploaded=uploaded)
        db.session.add(row)
        db.session.commit()
        run_import(row.id)
        reasons.append(db.session.get(PageImport, row.id).error)
    for source, content in (("ftp://x.example/a", None), ("big.html", b"x" * (MAX_BYTES + 1))):
        with pytest.raises(PageError) as refused:
            queue_import(source, content=content)
        reasons.append(str(refused.value))
    for page, url in (
        (b"<html><body><p>Rien</p></body></html>", "https://x.example/"),
        (
            b"<html><head><title>Un titre</title></head><body><p>Texte</p></body></html>",
            None,
        ),
    ):
        with pytest.raises(PageError) as unreadable:
            read_page(page, url=url, options=IngestOptions())
        reasons.append(str(unreadable.value))

    assert all(reasons) and len(set(reasons)) >= 20
    assert [reason for reason in reasons if not is_known_ingest_reason(reason)] == []
