"""Fixtures of the ingest tests: a real local HTTP server and the sample feed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent.parent / "fixtures"
SAMPLE_FEED = FIXTURES / "revue-internationale-sample.rss"


# The local test server is on 127.0.0.1, which production refuses to fetch from.
LOCAL_FETCHES = {"FEED_ALLOW_PRIVATE_HOSTS": True}


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    return dict(LOCAL_FETCHES)
