"""Editors type the URLs the server fetches: by default, nothing inside our own network."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from newsletter.ingest.page import PageError, import_page
from newsletter.ingest.polling import PollStatus, add_feed, poll_feed
from newsletter.models import Article, Feed, db
from tests.ingest.conftest import SAMPLE_FEED
from tests.ingest.feedserver import FeedServer, Reply


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    return {"FEED_ALLOW_PRIVATE_HOSTS": False}


def test_a_feed_on_a_loopback_address_is_refused_before_any_request(
    app: Flask, feed_server: FeedServer
) -> None:
    feed_server.routes["/feed/"] = Reply(body=SAMPLE_FEED.read_bytes())
    feed, _ = add_feed(feed_server.url("/feed/"))

    outcome = poll_feed(feed.id)

    assert outcome.status is PollStatus.FAILED
    assert feed_server.requests == []
    assert db.session.get(Feed, feed.id).last_error == (
        "refused: 127.0.0.1 is a private or local address (127.0.0.1)"
    )
    assert db.session.execute(db.select(Article)).first() is None


def test_a_page_on_the_cloud_metadata_address_is_refused(app: Flask) -> None:
    with pytest.raises(PageError, match=r"169\.254\.169\.254 is a private or local address"):
        import_page("http://169.254.169.254/latest/meta-data/")
