"""The public archive of editions: what a prospective reader sees of past letters.

Readers with names are mailed a real edition through the delivery engine into the SMTP sink;
then every archive page and feed is fetched as a stranger would, and searched for anything
of theirs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import feedparser
import pytest
from flask import Flask
from flask.testing import FlaskClient

from newsletter.digests.editions import create_special
from newsletter.models import Article, Delivery, DeliveryState, Digest, DigestStatus, Subscriber, db
from tests.digests.conftest import SAMPLE_SINCE, SAMPLE_UNTIL
from tests.digests.test_reader_articles import AZOVSTAL, IRAN, MALI
from tests.support.smtp import SmtpSink

HREF = re.compile(r'href="([^"]+)"')
ATOM = "application/atom+xml"


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink) -> dict[str, Any]:
    return {
        "SMTP_URL": smtp_sink.url,
        "BASE_URL": "https://lettre.revue-internationale.example",
        "SEND_RATE_PER_SECOND": 0.0,
    }


@pytest.fixture
def sent(
    app: Flask, sample_articles: None, make_reader: Callable[..., Subscriber]
) -> Callable[..., Digest]:
    """A special edition sent for real to named readers of Russia and of Africa."""
    make_reader("russie", name="Awa Diallo")
    make_reader("afrique", "moyen-orient", name="Jean Lemaire", language="en")

    def send(**options: Any) -> Digest:
        digest = create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL, **options).digest
        db.session.refresh(digest)
        assert digest.status is DigestStatus.FINISHED
        return digest

    return send


def page(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, url
    return response.get_data(as_text=True)


def archive_urls(digest: Digest) -> list[str]:
    urls = []
    for lang in ("", "?lang=en"):
        urls += [
            f"/archive/{lang}",
            f"/archive/feed.atom{lang}",
            f"/archive/{digest.id}/{lang}",
        ]
        for region in ("russie", "afrique", "moyen-orient"):
            urls += [
                f"/archive/{region}/{lang}",
                f"/archive/{region}/feed.atom{lang}",
                f"/archive/{region}/{digest.id}/{lang}",
            ]
    return urls


def test_the_archive_shows_a_sent_edition_with_no_readers_name_address_or_token(
    client: FlaskClient, smtp_sink: SmtpSink, sent: Callable[..., Digest]
) -> None:
    digest = sent()
    readers = db.session.execute(db.select(Subscriber)).scalars().all()
    assert len(smtp_sink.messages) == 2
    # Every token the readers' letters carry: the last part of each of their own links.
    tokens = set()
    for received in smtp_sink.messages:
        html = received.message.get_body(("html",)).get_content()
        for href in HREF.findall(html):
            if any(part in href for part in ("/unsubscribe/", "/manage/", "/digests/view/")):
                tokens.update(re.split(r"[/?=&]", href)[-1:] + [href.rsplit("/", 1)[-1]])
    assert len(tokens) >= 4

    for url in archive_urls(digest):
        html = page(client, url)
        for reader in readers:
            assert reader.email not in html, url
            assert reader.name not in html, url
        for token in tokens:
            assert token not in html, url
        assert not re.search(r"/manage|/unsubscribe|/digests/view|reader=|/r/", html), url

    letter = page(client, f"/archive/{digest.id}/")
    assert AZOVSTAL in letter and MALI in letter and IRAN in letter
    assert "Bonjour," in letter
    subscribe = re.search(r'<a href="([^"]+)"[^>]*>S’abonner à la lettre</a>', letter)
    assert subscribe and subscribe.group(1) == "https://lettre.revue-internationale.example/"
    # The articles' own addresses: no click counter, no redirect in between.
    urls = set(db.session.execute(db.select(Article.url)).scalars())
    ours = {subscribe.group(1), "/archive/feed.atom"}
    shown = {href for href in HREF.findall(letter) if href not in ours}
    assert shown and shown <= urls


def test_a_region_page_lists_the_editions_that_covered_it_each_with_only_that_region(
    client: FlaskClient, sent: Callable[..., Digest]
) -> None:
    digest = sent()

    afrique = page(client, "/archive/afrique/")
    assert f'href="/archive/afrique/{digest.id}/"' in afrique
    letter = page(client, f"/archive/afrique/{digest.id}/")
    assert MALI in letter
    assert AZOVSTAL not in letter and IRAN not in letter

    limited = sent(regions=["asie", "russie"])
    assert f"/archive/russie/{limited.id}/" in page(client, "/archive/russie/")
    assert f"/archive/{limited.id}/" not in page(client, "/archive/afrique/")
    page(client, f"/archive/afrique/{limited.id}/", 404)


def test_unknown_regions_and_ids_and_malformed_requests_are_4xx(
    client: FlaskClient, sent: Callable[..., Digest]
) -> None:
    digest = sent()
    for url in (
        "/archive/narnia/",
        "/archive/narnia/feed.atom",
        f"/archive/narnia/{digest.id}/",
        f"/archive/{digest.id + 1}/",
        "/archive/abc/",
        "/archive/-1/",
        "/archive/99999999999999999999999999/",
        "/archive/?page=999",
    ):
        assert client.get(url).status_code == 404, url
    for query in ("?page=abc", "?page=0", "?page=%00", "?page=1e3"):
        assert client.get(f"/archive/{query}").status_code == 400, query
    assert client.post("/archive/").status_code == 405


def test_editions_not_sent_or_that_delivered_no_letter_stay_out_of_the_archive(
    client: FlaskClient, sent: Callable[..., Digest]
) -> None:
    shown = sent()
    unsent = {}
    for status in (DigestStatus.PLANNED, DigestStatus.SENDING, DigestStatus.CANCELLED):
        digest = sent()
        digest.status = status
        unsent[status] = digest
    none_delivered = sent()
    db.session.execute(
        db.update(Delivery)
        .where(Delivery.digest_id == none_delivered.id)
        .values(state=DeliveryState.FAILED)
    )
    db.session.commit()

    listing = page(client, "/archive/")
    assert f'href="/archive/{shown.id}/"' in listing
    for digest in [*unsent.values(), none_delivered]:
        assert f"/archive/{digest.id}/" not in listing
        page(client, f"/archive/{digest.id}/", 404)
    assert len(feedparser.parse(page(client, "/archive/feed.atom")).entries) == 1


def test_the_atom_feed_is_valid_and_links_each_edition_to_its_archive_page(
    app: Flask, client: FlaskClient, sent: Callable[..., Digest]
) -> None:
    first = sent()
    second = sent(regions=["afrique"])
    base = app.config["BASE_URL"]

    response = client.get("/archive/feed.atom")
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.get_data())

    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10"
    assert feed.feed.id == f"{base}/archive/feed.atom"
    assert feed.feed.title == "La Revue Internationale — lettres parues"
    assert feed.feed.updated_parsed is not None
    assert feed.feed.link == f"{base}/archive/"
    assert [entry.link for entry in feed.entries] == [
        f"{base}/archive/{second.id}/",
        f"{base}/archive/{first.id}/",
    ]
    assert all(entry.id == entry.link and entry.updated_parsed for entry in feed.entries)
    assert feed.entries[0].title.startswith("Édition spéciale du ")

    regional = feedparser.parse(client.get("/archive/russie/feed.atom").get_data())
    assert not regional.bozo
    assert [entry.link for entry in regional.entries] == [f"{base}/archive/russie/{first.id}/"]


def test_the_archive_is_french_by_default_and_english_with_lang_en(
    client: FlaskClient, sent: Callable[..., Digest]
) -> None:
    digest = sent()

    french = page(client, f"/archive/{digest.id}/", 200)
    english = page(client, f"/archive/{digest.id}/?lang=en")
    browser_english = client.get(f"/archive/{digest.id}/", headers={"Accept-Language": "en"})

    assert '<html lang="fr"' in french and "Édition spéciale" in french
    assert '<html lang="en"' in english and "Special edition" in english
    assert "Subscribe to the newsletter" in english
    # One URL, one page: what a cache keeps is the same for every browser.
    assert browser_english.get_data(as_text=True) == french
    listing = page(client, "/archive/?lang=en")
    assert "Special edition of" in listing
    assert f'href="/archive/{digest.id}/?lang=en"' in listing


def test_archive_pages_may_be_cached_briefly_and_the_letter_runs_no_script(
    client: FlaskClient, sent: Callable[..., Digest]
) -> None:
    digest = sent()
    for url in ("/archive/", f"/archive/{digest.id}/", "/archive/feed.atom", "/archive/asie/"):
        response = client.get(url)
        assert response.headers["Cache-Control"] == "public, max-age=300", url
    missing = client.get(f"/archive/{digest.id + 100}/")
    assert "public" not in missing.headers.get("Cache-Control", "")

    csp = client.get(f"/archive/{digest.id}/").headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src" not in csp
    assert "'self'" in client.get("/archive/").headers["Content-Security-Policy"]


def test_markup_in_an_edition_or_an_article_title_comes_out_as_text(
    client: FlaskClient, sent: Callable[..., Digest]
) -> None:
    article = db.session.execute(db.select(Article).order_by(Article.id)).scalars().first()
    assert article is not None
    article.title = '<script>alert("titre")</script><img src=x onerror=alert(1)>'
    db.session.commit()
    digest = sent(intro='<b onmouseover="alert(2)">Bonjour</b>')

    for url in (f"/archive/{digest.id}/", "/archive/feed.atom", "/archive/"):
        html = page(client, url)
        assert "<script>" not in html and "<img src=x" not in html and "<b onmouseover" not in html
    letter = page(client, f"/archive/{digest.id}/")
    assert "&lt;script&gt;alert(" in letter
    assert "&lt;b onmouseover=" in letter


def test_a_letter_whose_articles_are_gone_is_a_404_not_an_error(
    client: FlaskClient, sent: Callable[..., Digest]
) -> None:
    digest = sent()
    digest.window_start = datetime(2000, 1, 1, tzinfo=UTC)
    digest.window_end = datetime(2000, 1, 2, tzinfo=UTC)
    db.session.commit()

    assert client.get(f"/archive/{digest.id}/").status_code == 404


class FeedLinks(HTMLParser):
    """The Atom feeds a page announces in its head, as a browser or a feed reader finds them."""

    def __init__(self) -> None:
        super().__init__()
        self.in_head = False
        self.links: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        alternate = "alternate" in (found.get("rel") or "").split()
        if tag == "head":
            self.in_head = True
        elif tag == "link" and self.in_head and alternate and found.get("type") == ATOM:
            self.links.append(found)

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.in_head = False


def announced_feed(client: FlaskClient, url: str) -> dict[str, str | None]:
    parser = FeedLinks()
    parser.feed(page(client, url))
    assert len(parser.links) == 1, (url, parser.links)
    return parser.links[0]


def test_every_archive_page_announces_its_feed_in_its_head_in_the_pages_language(
    client: FlaskClient, sent: Callable[..., Digest]
) -> None:
    russia = sent(regions=["russie"])
    africa = sent(regions=["afrique"])
    both = {russia.id, africa.id}
    # page, the feed it announces, the editions that feed carries, the page's language
    pages = [
        ("/archive/", "/archive/feed.atom", both, "fr"),
        ("/archive/?lang=en", "/archive/feed.atom?lang=en", both, "en"),
        (f"/archive/{russia.id}/", "/archive/feed.atom", both, "fr"),
        (f"/archive/{africa.id}/?lang=en", "/archive/feed.atom?lang=en", both, "en"),
        ("/archive/russie/", "/archive/russie/feed.atom", {russia.id}, "fr"),
        ("/archive/afrique/?lang=en", "/archive/afrique/feed.atom?lang=en", {africa.id}, "en"),
        (f"/archive/russie/{russia.id}/", "/archive/russie/feed.atom", {russia.id}, "fr"),
    ]
    titles = {"fr": "La Revue Internationale — lettres parues", "en": "past letters"}
    for url, feed_url, editions, language in pages:
        link = announced_feed(client, url)
        assert link["href"] == feed_url, url
        assert link["title"] is not None and titles[language] in link["title"], url

        response = client.get(feed_url)
        assert response.status_code == 200, feed_url
        assert response.mimetype == ATOM, feed_url
        feed = feedparser.parse(response.get_data())
        assert not feed.bozo, feed.bozo_exception
        assert feed.feed.title == link["title"], url
        carried = {int(re.findall(r"/(\d+)/", entry.link)[-1]) for entry in feed.entries}
        assert carried == editions, url
        # An English page's feed leads back to English pages.
        assert {entry.link.endswith("?lang=en") for entry in feed.entries} == {language == "en"}
