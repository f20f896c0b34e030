"""Fixtures of the ingest tests: a real local HTTP server and the sample feed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ingest.feedserver import FeedServer

FIXTURES = Path(__file__).parent.parent / "fixtures"
SAMPLE_FEED = FIXTURES / "revue-internationale-sample.rss"


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    server.start()
    yield server
    server.stop()
