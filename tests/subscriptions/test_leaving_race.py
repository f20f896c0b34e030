"""Why readers leave: one survey token counts once even when its answers arrive together.

A reader who double-clicks, or a browser that sends the form again while the first request
is still running, posts the same token at the same moment. The token's use is one atomic
increment in the rate limiter's storage; this test races real requests on each storage the
service runs with: the SQLite file of the run without servers, and Redis.

Threads left to the scheduler mostly go through the storage one after another (each reads
and marks a token within a tenth of a millisecond; the next one wakes up a millisecond
later), so a race would be a matter of luck. Instead every request is held after its first
operation on the storage until all have made theirs: a token read and then marked in two
steps is then read unused by all of them, every time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from limits.storage import Storage

from newsletter.models import LeaveReason
from newsletter.subscriptions import leaving
from tests.conftest import TEST_REDIS_URL
from tests.subscriptions.conftest import csrf_token
from tests.subscriptions.test_leaving import comments, counts, the_question, this_month
from tests.support.smtp import SmtpSink

RACERS = 8
STORAGES = ["sqlite", "redis"] if TEST_REDIS_URL else ["sqlite"]


@pytest.fixture(params=STORAGES)
def used_tokens_storage(request: pytest.FixtureRequest, app: Flask, tmp_path: Path) -> str:
    """The app's limiter storage set to this run's kind: the SQLite file or Redis."""
    if request.param == "redis":
        uri = TEST_REDIS_URL
    else:
        uri = f"newsletter+sqlite:///{tmp_path / 'ratelimits.sqlite'}"
    app.config["RATELIMIT_STORAGE_URI"] = uri
    return str(request.param)


class HeldAfterFirstCall:
    """The real storage; each thread's first call on it returns only once every racer's has."""

    def __init__(self, storage: Storage, together: threading.Barrier) -> None:
        self.storage, self.together = storage, together
        self.called = threading.local()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.storage, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            if not getattr(self.called, "once", False):
                self.called.once = True
                self.together.wait(timeout=60)  # a safety net against a hang, not a measure
            return result

        return call


def test_the_same_survey_answer_sent_by_eight_requests_at_once_counts_once(
    app: Flask,
    client: FlaskClient,
    smtp_sink: SmtpSink,
    used_tokens_storage: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    question = the_question(client, smtp_sink)
    together = threading.Barrier(RACERS)
    used_tokens: Callable[[str], Storage] = leaving._used_tokens
    monkeypatch.setattr(
        leaving, "_used_tokens", lambda uri: HeldAfterFirstCall(used_tokens(uri), together)
    )
    # One browser per request, each with its own session; the same survey token.
    racers = [app.test_client() for _ in range(RACERS)]

    def send(number: int) -> tuple[int, str]:
        # The CSRF token is read in the thread, outside the test's application context, whose
        # `g` would hand every browser the first one's token.
        form = {
            "csrf_token": csrf_token(racers[number]),
            "survey": question["survey"],
            "reason": "too-many",
            "comment": f"réponse {number}",
        }
        return racers[number].post(question["action"], data=form).status_code, form["comment"]

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        sent = list(pool.map(send, range(RACERS)))

    assert not together.broken  # every request did reach the storage and wait there
    assert sorted(status for status, _comment in sent) == [200] + [409] * (RACERS - 1)
    assert counts() == {(this_month(), LeaveReason.TOO_MANY): 1}
    counted = [comment for status, comment in sent if status == 200]
    assert [comment for _month, _reason, comment in comments()] == counted
