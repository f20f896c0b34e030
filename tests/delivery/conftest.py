"""Delivery fixtures: the app sending into the real SMTP sink, with no rate cap and short waits."""

from __future__ import annotations

from typing import Any

import pytest

from newsletter.delivery.send import favour_the_smtp_thread
from tests.support.smtp import SmtpSink

# The tests send inline, in this process: tuned like a worker process (worker/celery_app.py).
favour_the_smtp_thread()


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink) -> dict[str, Any]:
    return {
        "SMTP_URL": smtp_sink.url,
        "SEND_RATE_PER_SECOND": 0.0,
        "SEND_BATCH_SIZE": 50,
        "SEND_GROUP_SIZE": 10,
        "SEND_RETRY_MIN_SECONDS": 0.2,
        "SEND_RETRY_MAX_SECONDS": 1.0,
        "SEND_TASK_SECONDS": 30,
    }
