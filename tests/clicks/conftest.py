"""Click fixtures: the digest fixtures (sample articles, readers) and a real SMTP server."""

from __future__ import annotations

from typing import Any

import pytest

from tests.digests.conftest import make_reader, sample_articles  # noqa: F401 - fixtures
from tests.support.smtp import SmtpSink


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink) -> dict[str, Any]:
    return {
        "SMTP_URL": smtp_sink.url,
        "BASE_URL": "https://lettre.revue-internationale.example",
        "SEND_RATE_PER_SECOND": 0.0,
        "SEND_TASK_SECONDS": 30,
    }
