"""The feeds in the console: their state at a glance, and add, pause, resume, remove and
"Relever maintenant", each a POST with its CSRF token."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient

from newsletter.ingest.polling import add_feed, poll_feed
from newsletter.models import Article, Feed, db, utcnow
from tests.ingest.conftest import LOCAL_FETCHES, SAMPLE_FEED
from tests.ingest.feedserver import FeedServer, Reply
from tests.support.editors import log_in_editor

HOSTILE = '"><img src=x onerror=alert(1)>'
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    # The local feed server is on 127.0.0.1, which production refuses to fetch from.
    return dict(LOCAL_FETCHES)


@pytest.fixture
def editor(client: FlaskClient) -> FlaskClient:
    return log_in_editor(client)


def feeds_page(client: FlaskClient) -> str:
    g.pop("csrf_token", None)
    response = client.get("/admin/feeds")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def csrf(client: FlaskClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', feeds_page(client))
    assert found, "no CSRF token on the feeds page"
    return found.group(1)


def post(client: FlaskClient, path: str, **data: str) -> str:
    """Post a button's form with its token; the answer leads back to the feeds page."""
    response = client.post(path, data={"csrf_token": csrf(client), **data}, follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == "/admin/feeds"
    return html.unescape(response.get_data(as_text=True))


def flashes(page: str) -> list[str]:
    return re.findall(r'<p class="flash flash-\w+">([^<]*)</p>', page)


def row_of(page: str, url: str) -> str:
    """The table row that names a feed's URL."""
    table = page.index('<table class="list feeds">')
    start = page.rindex("<tr>", table, page.index(html.escape(url), table))
    return page[start : page.index("</tr>", start)]


def with_articles(url: str, count: int) -> Feed:
    feed, _ = add_feed(url)
    db.session.add_all(
        Article(
            guid=f"{url}#{n}",
            url=f"{url}{n}/",
            title=f"Article {n}",
            published_at=utcnow(),
            feed_id=feed.id,
        )
        for n in range(count)
    )
    db.session.commit()
    return feed


def test_the_list_shows_each_feeds_state_last_poll_last_error_and_articles_count(
    app: Flask, editor: FlaskClient, feed_server: FeedServer
) -> None:
    feed_server.routes["/feed/"] = Reply(body=SAMPLE_FEED.read_bytes(), headers=RSS)
    good, _ = add_feed(feed_server.url("/feed/"))
    poll_feed(good.id)
    broken, _ = add_feed(feed_server.url("/broken/"))
    poll_feed(broken.id)
    never, _ = add_feed("https://jamais.example/rss")
    never.active = False
    db.session.commit()

    page = html.unescape(feeds_page(editor))

    good_row = row_of(page, good.url)
    assert "La Revue Internationale" in good_row and "actif" in good_row
    assert "réussi :" in good_row and "jamais" not in good_row
    assert f'<a href="/admin/articles?feed={good.id}">8</a>' in good_row
    broken_row = row_of(page, broken.url)
    assert "HTTP 404 Not Found" in broken_row and ">0</a>" in broken_row
    never_row = row_of(page, never.url)
    assert "en pause" in never_row and "jamais" in never_row
    assert "Reprendre" in never_row and "Relever maintenant" not in never_row


def test_the_articles_page_links_to_the_feeds(app: Flask, editor: FlaskClient) -> None:
    page = editor.get("/admin/articles").get_data(as_text=True)
    assert '<a href="/admin/feeds">Gérer les flux</a>' in page


def test_an_editor_adds_a_feed_and_adding_it_again_adds_nothing(
    app: Flask, editor: FlaskClient
) -> None:
    url = "https://www.revue-internationale.example/feed/"

    first = post(editor, "/admin/feeds", url=url)
    again = post(editor, "/admin/feeds", url=url)

    assert flashes(first) == [f"Flux ajouté : {url}. Il sera relevé au prochain tour."]
    assert flashes(again) == [f"Flux déjà enregistré (et actif) : {url}"]
    assert url in row_of(again, url)
    assert db.session.execute(db.select(Feed.url)).scalars().all() == [url]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://www.revue-internationale.example/feed/", "en http:// ou https:// est attendue"),
        ("javascript:alert(1)", "en http:// ou https:// est attendue"),
        ("pas une adresse", "en http:// ou https:// est attendue"),
        ("", "Donnez l’adresse du flux."),
        ("https://x.example/" + "a" * 2000, "2000 caractères au plus."),
    ],
)
def test_a_feed_address_that_is_not_http_or_https_is_refused_in_french(
    app: Flask, editor: FlaskClient, url: str, message: str
) -> None:
    page = post(editor, "/admin/feeds", url=url)

    assert any(message in text and text.startswith("Adresse du flux : ") for text in flashes(page))
    assert db.session.execute(db.select(Feed)).first() is None


def test_a_paused_feed_is_not_polled_and_resumes_when_asked(
    app: Flask, editor: FlaskClient, feed_server: FeedServer
) -> None:
    feed_server.routes["/feed/"] = Reply(body=SAMPLE_FEED.read_bytes(), headers=RSS)
    feed = with_articles(feed_server.url("/feed/"), 2)

    paused = post(editor, f"/admin/feeds/{feed.id}/pause")
    poll_feed(feed.id)  # the next round
    refused = post(editor, f"/admin/feeds/{feed.id}/poll")

    assert flashes(paused) == [f"Flux en pause : {feed.url}. Ses articles restent."]
    assert "en pause" in row_of(paused, feed.url)
    assert flashes(refused) == ["Ce flux est en pause : reprenez-le avant de le relever."]
    assert feed_server.requests == []
    assert len(db.session.execute(db.select(Article)).all()) == 2

    resumed = post(editor, f"/admin/feeds/{feed.id}/resume")

    assert flashes(resumed) == [f"Flux repris : {feed.url}. Il sera relevé au prochain tour."]
    assert "actif" in row_of(resumed, feed.url)
    db.session.expire_all()
    assert db.session.get(Feed, feed.id).active


def test_poll_now_fetches_the_feed_and_the_page_shows_its_articles(
    app: Flask, editor: FlaskClient, feed_server: FeedServer
) -> None:
    feed_server.routes["/feed/"] = Reply(body=SAMPLE_FEED.read_bytes(), headers=RSS)
    feed, _ = add_feed(feed_server.url("/feed/"))

    # The task leaves after the commit; in tests Celery runs it at once, as a worker would.
    page = post(editor, f"/admin/feeds/{feed.id}/poll")

    # Run at once, the poll named the feed by its title before the message was written.
    assert flashes(page) == [
        "Relevé demandé : La Revue Internationale. Son résultat paraîtra dans ce tableau."
    ]
    assert [r.path for r in feed_server.requests] == ["/feed/"]
    row = row_of(page, feed.url)
    assert "La Revue Internationale" in row and ">8</a>" in row and "réussi :" in row
    assert len(db.session.execute(db.select(Article)).all()) == 8


def test_removing_a_feed_keeps_its_articles_without_a_feed(app: Flask, editor: FlaskClient) -> None:
    feed = with_articles("https://www.revue-internationale.example/feed/", 3)
    other = with_articles("https://autre.example/rss", 1)
    shown = feeds_page(editor)
    assert "Ses 3 articles restent, sans flux." in row_of(html.unescape(shown), feed.url)

    page = post(editor, f"/admin/feeds/{feed.id}/remove")

    assert flashes(page) == [f"Flux supprimé : {feed.url} ; ses 3 articles restent, sans flux."]
    table = page[page.index('<table class="list feeds">') :]
    assert feed.url not in table and other.url in table
    db.session.expire_all()
    assert db.session.get(Feed, feed.id) is None
    feeds_of_articles = db.session.execute(db.select(Article.feed_id)).scalars().all()
    assert sorted(feeds_of_articles, key=str) == [other.id, None, None, None]
    articles = editor.get("/admin/articles").get_data(as_text=True)
    assert articles.count("hors flux") == 3


@pytest.mark.parametrize("action", ["pause", "resume", "poll", "remove"])
def test_an_action_on_a_feed_removed_meanwhile_says_so(
    app: Flask, editor: FlaskClient, action: str
) -> None:
    page = post(editor, f"/admin/feeds/999999/{action}")
    assert flashes(page) == ["Ce flux n’existe plus."]


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/admin/feeds", {"url": "https://www.revue-internationale.example/autre/"}),
        ("/admin/feeds/{id}/pause", {}),
        ("/admin/feeds/{id}/resume", {}),
        ("/admin/feeds/{id}/poll", {}),
        ("/admin/feeds/{id}/remove", {}),
    ],
)
def test_every_feed_action_needs_the_forms_csrf_token(
    app: Flask, editor: FlaskClient, feed_server: FeedServer, path: str, data: dict[str, str]
) -> None:
    feed, _ = add_feed(feed_server.url("/feed/"))
    feed.active = path.endswith("resume") is False
    db.session.commit()
    before = db.session.execute(db.select(Feed.id, Feed.active)).all()

    response = editor.post(path.format(id=feed.id), data=data)

    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.execute(db.select(Feed.id, Feed.active)).all() == before
    assert feed_server.requests == []


def test_the_feeds_page_sends_a_stranger_to_the_login(app: Flask, client: FlaskClient) -> None:
    response = client.get("/admin/feeds")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")


def test_a_hostile_feed_title_and_error_show_as_text(app: Flask, editor: FlaskClient) -> None:
    feed, _ = add_feed("https://hostile.example/rss", title=HOSTILE)
    feed.last_error = HOSTILE
    db.session.commit()

    for page in (feeds_page(editor), editor.get("/admin/articles").get_data(as_text=True)):
        assert "<img" not in page
        assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
