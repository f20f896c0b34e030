"""Polling registered feeds over real HTTP: conditional GET, and one transaction per feed."""

from __future__ import annotations

from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler

from flask import Flask

from newsletter.ingest.polling import PollStatus, add_feed, poll_feed
from newsletter.models import Article, Feed, db
from tests.ingest.conftest import SAMPLE_FEED
from tests.ingest.feedserver import FeedServer, Reply

RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}


def _article_rows() -> list[tuple[str, str, object]]:
    db.session.expire_all()
    rows = db.session.execute(db.select(Article).order_by(Article.guid)).scalars()
    return [(a.guid, a.title, a.updated_at) for a in rows]


def test_a_second_poll_gets_304_from_a_server_honouring_etag_and_writes_nothing(
    app: Flask, feed_server: FeedServer
) -> None:
    feed_server.routes["/feed/"] = Reply(body=SAMPLE_FEED.read_bytes(), headers=RSS, etag='"v1"')
    feed, _ = add_feed(feed_server.url("/feed/"))

    first = poll_feed(feed.id)
    stored = _article_rows()
    second = poll_feed(feed.id)

    assert first.status is PollStatus.STORED and first.result is not None
    assert first.result.created == 8
    assert second.status is PollStatus.NOT_MODIFIED
    assert [r.status for r in feed_server.requests] == [200, 304]
    assert feed_server.requests[1].headers["If-None-Match"] == '"v1"'
    assert _article_rows() == stored
    feed = db.session.get(Feed, feed.id)
    assert feed.etag == '"v1"' and feed.last_error is None
    assert feed.title == "La Revue Internationale"


def test_a_feed_with_last_modified_is_asked_if_modified_since(
    app: Flask, feed_server: FeedServer
) -> None:
    stamp = "Wed, 18 May 2022 16:00:00 GMT"
    headers = {**RSS, "Last-Modified": stamp}
    feed_server.routes["/feed/"] = Reply(body=SAMPLE_FEED.read_bytes(), headers=headers)
    feed, _ = add_feed(feed_server.url("/feed/"))

    poll_feed(feed.id)
    again = poll_feed(feed.id)

    assert feed_server.requests[1].headers["If-Modified-Since"] == stamp
    # This server ignores the validator: the full feed comes back and changes nothing.
    assert again.result is not None and again.result.unchanged == 8


def test_an_edited_summary_upstream_updates_the_article_on_the_next_poll(
    app: Flask, feed_server: FeedServer
) -> None:
    original = SAMPLE_FEED.read_bytes()
    feed_server.routes["/feed/"] = Reply(body=original, headers=RSS, etag='"v1"')
    feed, _ = add_feed(feed_server.url("/feed/"))
    poll_feed(feed.id)
    edited = original.replace(
        "Au Liban, le système bancaire".encode(), "Au Liban, tout le système bancaire".encode()
    )
    feed_server.routes["/feed/"] = Reply(body=edited, headers=RSS, etag='"v2"')

    outcome = poll_feed(feed.id)

    assert outcome.result is not None
    assert (outcome.result.created, outcome.result.updated, outcome.result.unchanged) == (0, 1, 7)
    lebanon = db.session.execute(
        db.select(Article).where(Article.title.like("Liban%"))
    ).scalar_one()
    assert lebanon.lead.startswith("Au Liban, tout le système bancaire")
    assert db.session.get(Feed, feed.id).etag == '"v2"'


def test_the_periodic_task_polls_every_active_feed_and_a_broken_one_stops_no_other(
    app: Flask, feed_server: FeedServer
) -> None:
    feed_server.routes["/good/"] = Reply(body=SAMPLE_FEED.read_bytes(), headers=RSS)
    broken, _ = add_feed(feed_server.url("/missing/"))
    good, _ = add_feed(feed_server.url("/good/"))
    paused, _ = add_feed(feed_server.url("/paused/"))
    paused.active = False
    db.session.commit()

    app.extensions["celery"].tasks["ingest.poll_feeds"].apply_async()

    db.session.expire_all()
    assert len(_article_rows()) == 8
    assert db.session.get(Feed, broken.id).last_error == "HTTP 404 Not Found"
    assert db.session.get(Feed, good.id).last_success_at is not None
    assert "/paused/" not in [r.path for r in feed_server.requests]


def test_feeds_add_poll_and_list_from_the_command_line(app: Flask, feed_server: FeedServer) -> None:
    feed_server.routes["/feed/"] = Reply(body=SAMPLE_FEED.read_bytes(), headers=RSS)
    runner = app.test_cli_runner()

    added = runner.invoke(args=["feeds", "add", feed_server.url("/feed/")])
    again = runner.invoke(args=["feeds", "add", feed_server.url("/feed/")])
    bad = runner.invoke(args=["feeds", "add", "ftp://example.org/feed"])
    polled = runner.invoke(args=["feeds", "poll"])
    listed = runner.invoke(args=["feeds", "list"])

    assert added.exit_code == 0 and "Added: feed" in added.output
    assert "Already registered" in again.output
    assert bad.exit_code == 2 and "not an http(s) URL" in bad.output
    assert polled.exit_code == 0, polled.output
    assert "1 feeds polled: 8 new articles, 0 updated, 0 failed" in polled.output
    assert feed_server.url("/feed/") in listed.output and "[active]" in listed.output


def test_feeds_poll_reports_a_failed_feed_and_exits_non_zero(
    app: Flask, feed_server: FeedServer
) -> None:
    add_feed(feed_server.url("/gone/"))

    polled = app.test_cli_runner().invoke(args=["feeds", "poll"])

    assert polled.exit_code == 1
    assert "failed: HTTP 404 Not Found" in polled.output


def test_a_poll_racing_another_that_stored_the_same_article_first_still_succeeds(
    app: Flask, feed_server: FeedServer
) -> None:
    engine = db.engine
    mali_guid = "https://www.revue-internationale.example/?p=90371"

    def store_first_then_serve(handler: BaseHTTPRequestHandler) -> None:
        # Another worker commits the same article while this poll is fetching.
        with engine.begin() as connection:
            connection.execute(
                Article.__table__.insert().values(
                    guid=mali_guid,
                    url="https://www.revue-internationale.example/2022/05/le-mali-quitte-le-g5-sahel/",
                    title="Le Mali quitte le G5 Sahel (version précédente)",
                    lead="",
                    lead_html="",
                    tags=[],
                    published_at=datetime(2022, 5, 16, 8, 45, tzinfo=UTC),
                    first_seen_at=datetime(2022, 5, 16, 9, 0, tzinfo=UTC),
                    updated_at=datetime(2022, 5, 16, 9, 0, tzinfo=UTC),
                )
            )
        body = SAMPLE_FEED.read_bytes()
        handler.send_response(200)
        handler.send_header("Content-Type", RSS["Content-Type"])
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    feed_server.routes["/feed/"] = store_first_then_serve
    feed, _ = add_feed(feed_server.url("/feed/"))

    outcome = poll_feed(feed.id)

    assert outcome.status is PollStatus.STORED and outcome.result is not None
    assert (outcome.result.created, outcome.result.updated) == (7, 1)
    titles = [title for _, title, _ in _article_rows()]
    assert len(titles) == 8 and "Le Mali quitte le G5 Sahel" in titles
    assert db.session.get(Feed, feed.id).last_error is None


def test_a_paused_feed_is_not_polled_until_resumed(app: Flask, feed_server: FeedServer) -> None:
    feed_server.routes["/feed/"] = Reply(body=SAMPLE_FEED.read_bytes(), headers=RSS)
    feed, _ = add_feed(feed_server.url("/feed/"))
    runner = app.test_cli_runner()

    paused = runner.invoke(args=["feeds", "pause", str(feed.id)])
    while_paused = runner.invoke(args=["feeds", "poll"])
    resumed = runner.invoke(args=["feeds", "resume", str(feed.id)])
    after = runner.invoke(args=["feeds", "poll"])
    unknown = runner.invoke(args=["feeds", "pause", "999"])

    assert f"Paused: feed {feed.id}" in paused.output
    assert "0 feeds polled" in while_paused.output
    assert f"Resumed: feed {feed.id}" in resumed.output
    assert "1 feeds polled: 8 new articles" in after.output
    assert unknown.exit_code == 2 and "no feed 999" in unknown.output
