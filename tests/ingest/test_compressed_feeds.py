"""Compressed feeds, served for real: read whole when honest, stopped early and small when not."""

from __future__ import annotations

import tracemalloc
import zlib
from typing import Any

import pytest
from flask import Flask

from newsletter.ingest.fetch import FetchError, FetchLimits, fetch
from newsletter.ingest.polling import PollStatus, add_feed, poll_feed
from tests.ingest.conftest import LOCAL_FETCHES, SAMPLE_FEED
from tests.ingest.feedserver import FeedServer, Reply
from tests.ingest.test_broken_feeds import gzip_bomb, gzipped

RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
ENCODED = {
    "gzip": ("gzip", zlib.MAX_WBITS | 16),
    "deflate (zlib)": ("deflate", zlib.MAX_WBITS),
    "deflate (raw, as some servers send it)": ("deflate", -zlib.MAX_WBITS),
}


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    return dict(LOCAL_FETCHES)


@pytest.mark.parametrize("case", list(ENCODED))
def test_a_compressed_feed_is_read_whole(app: Flask, feed_server: FeedServer, case: str) -> None:
    encoding, wbits = ENCODED[case]
    feed_server.routes["/feed/"] = Reply(
        body=gzipped(SAMPLE_FEED.read_bytes(), wbits=wbits),
        headers={**RSS, "Content-Encoding": encoding},
    )
    feed, _ = add_feed(feed_server.url("/feed/"))

    outcome = poll_feed(feed.id)

    assert outcome.status is PollStatus.STORED
    assert outcome.result is not None and outcome.result.created == 8
    # Only what we decode is asked for, whatever optional decoders are installed.
    assert feed_server.requests[0].headers["Accept-Encoding"] == "gzip, deflate"


def test_a_gzip_bomb_is_stopped_with_memory_near_the_cap(feed_server: FeedServer) -> None:
    feed_server.routes["/bomb/"] = Reply(
        body=gzip_bomb(300), headers={**RSS, "Content-Encoding": "gzip"}
    )
    limits = FetchLimits(max_bytes=1_000_000, allow_private_hosts=True)

    tracemalloc.start()
    try:
        with pytest.raises(FetchError, match="larger than 1000000 bytes; stopped reading"):
            fetch(feed_server.url("/bomb/"), limits=limits)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # 300 MB once inflated; httpx's own decoder makes 64 MB out of one 64 KiB chunk.
    assert peak < 4_000_000


def test_a_redirect_with_a_huge_body_is_followed_without_reading_that_body(
    feed_server: FeedServer,
) -> None:
    feed_server.routes["/old/"] = Reply(
        status=301,
        body=gzip_bomb(300),
        headers={"Location": "/feed/", "Content-Encoding": "gzip"},
    )
    feed_server.routes["/feed/"] = Reply(body=SAMPLE_FEED.read_bytes(), headers=RSS)
    limits = FetchLimits(max_bytes=1_000_000, allow_private_hosts=True)

    tracemalloc.start()
    try:
        fetched = fetch(feed_server.url("/old/"), limits=limits)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert fetched.url == feed_server.url("/feed/")
    assert fetched.content == SAMPLE_FEED.read_bytes()
    assert peak < 4_000_000
