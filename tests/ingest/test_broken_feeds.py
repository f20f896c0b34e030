"""Broken feeds, served for real: each is recorded for the editors and stores nothing."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from flask import Flask

from newsletter.ingest.polling import PollStatus, add_feed, poll_feed
from newsletter.models import Article, Feed, db
from tests.ingest.conftest import FIXTURES, LOCAL_FETCHES, SAMPLE_FEED
from tests.ingest.feedserver import FeedServer, Reply, trickle

RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
MAX_BYTES = 50_000
DEADLINE = 3.0  # each read waits at most FEED_FETCH_TIMEOUT, the whole fetch this long


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    return {
        **LOCAL_FETCHES,
        "FEED_FETCH_TIMEOUT": 0.5,
        "FEED_FETCH_DEADLINE": DEADLINE,
        "FEED_MAX_BYTES": MAX_BYTES,
        "FEED_MAX_REDIRECTS": 3,
    }


def _endless(handler: BaseHTTPRequestHandler) -> None:
    """A response with no Content-Length that never ends on its own."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/rss+xml")
    handler.end_headers()
    chunk = b"<item><title>x</title></item>" * 2000
    try:
        handler.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
        for _ in range(100_000):  # 6 GB if nobody stopped reading
            handler.wfile.write(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass


def _redirect_loop(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(302)
    handler.send_header("Location", "/loop/")
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def gzipped(data: bytes, *, wbits: int = zlib.MAX_WBITS | 16) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return compressor.compress(data) + compressor.flush()


def gzip_bomb(megabytes: int) -> bytes:
    """About 1 KB of gzip per MB of zeros once inflated."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(1_000_000)
    return b"".join([*(compressor.compress(zeros) for _ in range(megabytes)), compressor.flush()])


def _edited_sample() -> bytes:
    return SAMPLE_FEED.read_bytes().replace(b"Le Mali quitte", b"EDITED Le Mali quitte")


BROKEN: dict[str, tuple[Reply | Callable[[BaseHTTPRequestHandler], None], str]] = {
    "404": (Reply(status=404, body=b"<h1>Not found</h1>"), "HTTP 404 Not Found"),
    "server error": (Reply(status=500, body=b"oops"), "HTTP 500 Internal Server Error"),
    "timeout": (Reply(body=SAMPLE_FEED.read_bytes(), delay=30), "no answer within 0.5 seconds"),
    "invalid XML (truncated)": (
        Reply(body=_edited_sample()[: len(_edited_sample()) * 2 // 3], headers=RSS),
        "invalid XML",
    ),
    "HTML page instead of a feed": (
        Reply(
            body=b"<!DOCTYPE html><html><head><title>La Revue</title></head><body>Accueil</body>",
            headers={"Content-Type": "text/html; charset=utf-8"},
        ),
        "an HTML page, not a feed",
    ),
    "HTML page labelled as XML": (
        Reply(body=b"<html><body><p>Maintenance</p></body></html>", headers=RSS),
        "an HTML page, not a feed",
    ),
    "not a feed at all": (
        Reply(body=b'<?xml version="1.0"?><note>hello</note>', headers=RSS),
        "not an RSS or Atom feed",
    ),
    "huge response announced": (
        Reply(body=_edited_sample() * 40, headers=RSS),
        f"larger than {MAX_BYTES} bytes",
    ),
    "huge response streamed without length": (_endless, f"larger than {MAX_BYTES} bytes"),
    "redirect loop": (_redirect_loop, "more than 3 redirects"),
    "gzip bomb (40 KB expanding to 40 MB)": (
        Reply(body=gzip_bomb(40), headers={**RSS, "Content-Encoding": "gzip"}),
        f"larger than {MAX_BYTES} bytes; stopped reading",
    ),
    "body trickling one byte at a time": (
        trickle(SAMPLE_FEED.read_bytes(), interval=0.05),
        f"took longer than {DEADLINE:g} s",
    ),
    "headers trickling one byte at a time": (
        trickle(SAMPLE_FEED.read_bytes(), interval=0.05, in_headers=True),
        f"took longer than {DEADLINE:g} s",
    ),
    "encoding we did not ask for": (
        Reply(body=b"\x1b\x00\x00", headers={**RSS, "Content-Encoding": "br"}),
        "unsupported Content-Encoding 'br'",
    ),
    "corrupt gzip": (
        Reply(body=b"\x1f\x8b\x08\x00garbage" * 10, headers={**RSS, "Content-Encoding": "gzip"}),
        "corrupt gzip data",
    ),
    "gzip cut short": (
        Reply(
            body=gzipped(SAMPLE_FEED.read_bytes())[:1000],
            headers={**RSS, "Content-Encoding": "gzip"},
        ),
        "the gzip data ends early",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_feed_records_its_error_and_leaves_the_stored_articles_as_they_were(
    app: Flask, feed_server: FeedServer, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    feed_server.routes["/feed/"] = Reply(body=SAMPLE_FEED.read_bytes(), headers=RSS)
    feed, _ = add_feed(feed_server.url("/feed/"))
    poll_feed(feed.id)
    before = _stored()
    success_at = db.session.get(Feed, feed.id).last_success_at
    route, message = BROKEN[case]
    feed_server.routes["/feed/"] = route
    feed_server.routes["/loop/"] = route

    with caplog.at_level(logging.WARNING, logger="newsletter.ingest.polling"):
        outcome = poll_feed(feed.id)

    assert outcome.status is PollStatus.FAILED
    db.session.expire_all()
    feed = db.session.get(Feed, feed.id)
    assert message in (feed.last_error or "")
    assert feed.last_error_at is not None and feed.last_error_at >= success_at
    assert feed.last_success_at == success_at
    assert _stored() == before
    assert message in caplog.text


def test_a_broken_feed_is_fetched_in_full_again_once_repaired(
    app: Flask, feed_server: FeedServer
) -> None:
    truncated = SAMPLE_FEED.read_bytes()[:3000]
    feed_server.routes["/feed/"] = Reply(body=truncated, headers=RSS, etag='"broken"')
    feed, _ = add_feed(feed_server.url("/feed/"))
    assert poll_feed(feed.id).status is PollStatus.FAILED
    feed_server.routes["/feed/"] = Reply(body=SAMPLE_FEED.read_bytes(), headers=RSS, etag='"ok"')

    outcome = poll_feed(feed.id)

    # The broken document's ETag was not kept, so the repair is not answered with a 304.
    assert "If-None-Match" not in feed_server.requests[1].headers
    assert outcome.result is not None and outcome.result.created == 8
    assert db.session.get(Feed, feed.id).last_error is None


def _stored() -> list[tuple[str, str, str, object]]:
    db.session.expire_all()
    rows = db.session.execute(db.select(Article).order_by(Article.guid)).scalars()
    return [(a.guid, a.title, a.lead, a.updated_at) for a in rows]


def _sample_in_cp1252(*, declaration: bytes | None) -> bytes:
    text = SAMPLE_FEED.read_text(encoding="utf-8")
    data = text.encode("cp1252")
    old = b'<?xml version="1.0" encoding="UTF-8"?>'
    return data.replace(old, declaration) if declaration is not None else data


ENCODINGS = {
    "declared UTF-8, written in Windows-1252": (
        Reply(body=_sample_in_cp1252(declaration=None), headers={"Content-Type": "text/xml"}),
        "declared encoding UTF-8 does not match the content; read as cp1252",
    ),
    "no encoding declared anywhere, written in Windows-1252": (
        Reply(
            body=_sample_in_cp1252(declaration=b'<?xml version="1.0"?>'),
            headers={"Content-Type": "application/xml"},
        ),
        "no known encoding declared and the content is not UTF-8; read as cp1252",
    ),
    "HTTP says ISO-8859-1, written in UTF-8": (
        Reply(
            body=SAMPLE_FEED.read_bytes(),
            headers={"Content-Type": "application/rss+xml; charset=ISO-8859-1"},
        ),
        "declared encoding ISO-8859-1 does not match the content; read as utf-8",
    ),
}


@pytest.mark.parametrize("case", list(ENCODINGS))
def test_a_wrong_or_missing_encoding_is_read_right_and_reported(
    app: Flask, feed_server: FeedServer, case: str
) -> None:
    reply, message = ENCODINGS[case]
    feed_server.routes["/feed/"] = reply
    feed, _ = add_feed(feed_server.url("/feed/"))

    outcome = poll_feed(feed.id)

    assert outcome.status is PollStatus.STORED
    titles = {title for _, title, _, _ in _stored()}
    assert "Liban : les banques au cœur de la crise" in titles
    assert "Fin de la bataille d’Azovstal" in titles
    assert len(titles) == 8
    feed = db.session.get(Feed, feed.id)
    assert feed.last_error == message
    assert feed.last_error_at is not None


def test_items_without_a_link_are_skipped_and_reported(app: Flask, feed_server: FeedServer) -> None:
    body = (FIXTURES / "feed-items-without-links.rss").read_bytes()
    feed_server.routes["/feed/"] = Reply(body=body, headers=RSS)
    feed, _ = add_feed(feed_server.url("/feed/"))

    outcome = poll_feed(feed.id)

    assert outcome.status is PollStatus.STORED
    assert [title for _, title, _, _ in _stored()] == ["Le Mali quitte le G5 Sahel"]
    assert db.session.get(Feed, feed.id).last_error == "1 item(s) without a link were skipped"


def test_a_feed_whose_items_all_lack_links_fails_and_stores_nothing(
    app: Flask, feed_server: FeedServer
) -> None:
    body = (FIXTURES / "feed-no-links-at-all.rss").read_bytes()
    feed_server.routes["/feed/"] = Reply(body=body, headers=RSS)
    feed, _ = add_feed(feed_server.url("/feed/"))

    outcome = poll_feed(feed.id)

    assert outcome.status is PollStatus.FAILED
    assert _stored() == []
    assert db.session.get(Feed, feed.id).last_error == "1 item(s) without a link were skipped"


def test_a_feed_mislabelled_as_an_html_page_is_still_read(
    app: Flask, feed_server: FeedServer
) -> None:
    feed_server.routes["/feed/"] = Reply(
        body=SAMPLE_FEED.read_bytes(), headers={"Content-Type": "text/html; charset=UTF-8"}
    )
    feed, _ = add_feed(feed_server.url("/feed/"))

    outcome = poll_feed(feed.id)

    assert outcome.result is not None and outcome.result.created == 8
