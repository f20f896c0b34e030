"""Adaptive throttling: a relay answering 421 4.7.28 above N messages a second for one domain."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis as _redis
from flask import Flask
from flask.testing import FlaskClient

from newsletter import ledger
from newsletter.delivery import digest_progress, plan_deliveries, rate_history
from newsletter.delivery.adaptive import Aimd, pacer_for
from newsletter.delivery.policy import domain_key, is_throttle, throttle_keys
from newsletter.mail.pipelined import Outcome, Result
from newsletter.models import Delivery, DeliveryState, Digest, DigestStatus, db
from tests.conftest import TEST_REDIS_URL
from tests.delivery.seed import seed_all, seed_digest
from tests.delivery.test_control import planned_not_sent
from tests.support.editors import log_in_editor
from tests.support.smtp import SmtpSink

SLOW = "slowmail.example"  # answers 421 4.7.28 above N a second, like Gmail
FAST = "fast.example"
N = 40


@pytest.mark.parametrize(
    ("code", "reply"),
    [
        (421, "4.7.28 Our system has detected an unusual rate of unsolicited mail"),
        (421, "Service not available, closing transmission channel"),
        (450, "4.7.650 The mail server has been temporarily rate limited"),
        (421, "4.7.0 [TSS04] Messages temporarily deferred due to unexpected volume"),
        (451, "4.7.1 Please try again later"),
        (452, "Too many messages, slow down"),
        (451, "Rate limit exceeded"),
    ],
)
def test_throttle_replies_are_recognised(code: int, reply: str) -> None:
    assert is_throttle(code, reply)


@pytest.mark.parametrize(
    ("code", "reply"),
    [
        (451, "4.3.0 Try again later"),
        (450, "4.2.2 Mailbox full"),
        (550, "5.7.1 Relaying denied"),
        (250, "2.0.0 OK"),
    ],
)
def test_other_replies_are_not_throttles(code: int, reply: str) -> None:
    assert not is_throttle(code, reply)


def test_a_421_names_the_refused_recipients_domain_not_the_rest_of_the_group() -> None:
    lost = (421, "4.7.28 slow down")
    outcomes = [
        Outcome(1, Result.ACCEPTED, 250, "OK"),
        Outcome(2, Result.TEMPORARY, *lost),  # the refused RCPT
        Outcome(3, Result.TEMPORARY, *lost),  # untried after the connection closed
        Outcome(4, Result.TEMPORARY, 451, "4.3.0 busy"),
    ]
    rcpts = {1: "a@x.example", 2: "b@gmail.example", 3: "c@y.example", 4: "d@z.example"}
    assert throttle_keys(outcomes, rcpts) == {"domain:gmail.example"}
    assert domain_key("Someone@Gmail.Example") == "domain:gmail.example"


def test_the_rate_halves_at_most_once_an_interval_and_grows_back_step_by_step() -> None:
    aimd = Aimd(start=100, minimum=2, maximum=100, factor=0.5, step=5, interval=10)
    assert aimd.cut(None) == 50
    assert aimd.cut(3) == 2
    assert aimd.rate_now(50, 9.9) == 50
    assert aimd.rate_now(50, 10) == 55
    assert aimd.rate_now(50, 95) == 95
    assert aimd.rate_now(50, 100) is None  # recovered: no limit any more


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink) -> dict[str, Any]:
    return {
        "SMTP_URL": smtp_sink.url,
        "SEND_RATE_PER_SECOND": 0.0,
        "SEND_THROTTLE_START_RATE": 100.0,
        "SEND_THROTTLE_DECREASE": 0.7,
        "SEND_THROTTLE_STEP": 4.0,
        "SEND_THROTTLE_INTERVAL_SECONDS": 1.0,
        "SEND_PARALLEL": 1,
        "SEND_BATCH_SIZE": 100,
        "SEND_GROUP_SIZE": 10,
        "SEND_RETRY_MIN_SECONDS": 0.5,
        "SEND_RETRY_MAX_SECONDS": 1.0,
        "SEND_TASK_SECONDS": 120,
    }


class PerSecondLimit:
    """The relay's rule: more than N accepted RCPTs in one second for SLOW -> 421 4.7.28."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.window = 0
        self.count = 0
        self.accepted: dict[str, list[float]] = {SLOW: [], FAST: []}
        self.refused = 0

    def __call__(self, address: str) -> str | None:
        domain = address.rsplit("@", 1)[1]
        now = time.time()
        with self.lock:
            if domain == SLOW:
                if int(now) != self.window:
                    self.window, self.count = int(now), 0
                if self.count >= N:
                    self.refused += 1
                    return "421 4.7.28 Our system has detected an unusual rate of mail"
                self.count += 1
            self.accepted.setdefault(domain, []).append(now)
        return None


def test_a_throttling_domain_gets_its_rate_and_every_reader_exactly_one_message(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    seeded = seed_all(2000, domain_of=lambda i: SLOW if i % 2 else FAST)
    limit = PerSecondLimit()
    smtp_sink.rcpt_policy = limit
    started = time.time()

    plan_deliveries(seeded.digest_id)

    received = Counter(rcpt for m in smtp_sink.messages for rcpt in m.rcpt_tos)
    assert received == Counter(seeded.emails)  # each reader exactly one message
    assert limit.refused > 0
    progress = digest_progress(seeded.digest_id)
    assert progress["sent"] == 2000
    assert db.session.get(Digest, seeded.digest_id).status is DigestStatus.FINISHED
    # A throttled row was deferred, never failed nor bounced; nothing held back burnt attempts.
    assert progress.get("failed", 0) == 0

    slow, fast = limit.accepted[SLOW], limit.accepted[FAST]
    # The rate into the throttled domain settles within 20 % of N: whole seconds after the
    # first ten, up to the tail (the last readers' retries, fewer than N left).
    seconds = Counter(int(t) for t in slow)
    settled = [seconds[s] for s in range(int(slow[0]) + 10, int(slow[-1]) - 1)]
    assert len(settled) >= 5
    mean = sum(settled) / len(settled)
    assert 0.8 * N <= mean <= 1.2 * N, (mean, settled)
    # The other domain is not paced to N: it is done long before the slow one.
    assert fast[-1] - started < 0.4 * (slow[-1] - started)
    assert len(fast) / max(fast[-1] - started, 0.001) > 3 * N

    # The edition keeps the rate over time, for its report.
    history = rate_history.history(seeded.digest_id)
    samples = history[f"domain:{SLOW}"]
    assert sum(s.throttled for s in samples) > 0
    assert 0 < min(s.rate for s in samples) < N
    assert f"domain:{FAST}" not in history
    attempts = db.session.execute(db.select(db.func.max(Delivery.attempts))).scalar_one()
    assert attempts < 10


def test_the_editions_page_shows_the_rate_over_time_of_each_slowed_domain(
    app: Flask, client: FlaskClient
) -> None:
    digest_id = seed_digest()
    nine = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 09:00 in Paris
    rate_history.note(digest_id, {f"domain:{SLOW}": rate_history.Tally(28.0, 1500, 12)}, now=nine)
    later = nine + timedelta(minutes=1, seconds=30)
    rate_history.note(digest_id, {f"domain:{SLOW}": rate_history.Tally(36.0, 2100, 3)}, now=later)
    rate_history.note(digest_id, {f"domain:{SLOW}": rate_history.Tally(32.0, 100, 1)}, now=later)

    page = log_in_editor(client).get(f"/admin/digests/{digest_id}").get_data(as_text=True)

    section = page[page.index('class="send-rates"') :]
    assert "Débit d&#39;envoi" in section or "Débit d'envoi" in section
    assert f"<h3>{SLOW}</h3>" in section
    assert "<svg" in section and SLOW in section[section.index("<svg") :]
    cells = re.findall(
        r"<tr><th scope=\"row\">([^<]+)</th><td>([^<]+)</td><td>(\d+)</td>"
        r"<td>(\d+)</td></tr>",
        section,
    )
    assert [(rate, sent, throttled) for _, rate, sent, throttled in cells] == [
        ("28.0", "1500", "12"),
        ("32.0", "2200", "4"),  # the lowest rate of the minute, the figures added
    ]
    assert "09:00" in cells[0][0] and "09:01" in cells[1][0]


def test_an_edition_never_slowed_down_shows_no_send_rate(app: Flask, client: FlaskClient) -> None:
    digest_id = seed_digest()
    page = log_in_editor(client).get(f"/admin/digests/{digest_id}").get_data(as_text=True)
    assert 'class="send-rates"' not in page


def test_rows_held_back_by_the_rate_are_deferred_unsent_with_their_attempt_returned(
    app: Flask,
) -> None:
    digest_id, _ = planned_not_sent(app, 4)
    batch = ledger.claim(digest_id, size=4, lease_seconds=60)
    first, second, third, _ = (row.id for row in batch.rows)
    assert ledger.hand_over(batch, [third], lease_seconds=60) == {third}
    later = datetime.now(UTC) + timedelta(seconds=30)

    ledger.postpone(batch, [(first, later), (second, later), (third, later)])

    rows = {
        d.id: d
        for d in db.session.execute(db.select(Delivery).where(Delivery.digest_id == digest_id))
        .scalars()
        .all()
    }
    for held in (first, second):
        assert rows[held].state is DeliveryState.DEFERRED
        assert rows[held].attempts == 0  # never handed to the relay
        assert rows[held].lease_token is None
        assert abs((rows[held].next_attempt_at - later).total_seconds()) < 1
    # A row handed over is the relay's now: postponing never touches it.
    assert rows[third].state is DeliveryState.SENDING
    assert rows[third].attempts == 1
    # Nothing is due before its time (and the fourth row is still this batch's).
    assert not ledger.claim(digest_id, size=4, lease_seconds=60).rows


def test_workers_sharing_the_rates_cut_a_domain_once_per_interval(app: Flask) -> None:
    redis = _redis.Redis.from_url(TEST_REDIS_URL) if TEST_REDIS_URL else None
    config = {**app.config, "SEND_THROTTLE_INTERVAL_SECONDS": 60.0}
    prefix = f"send-rates:test-{time.time_ns()}"
    one, two = (pacer_for(config, redis=redis, prefix=prefix) for _ in range(2))
    key = f"domain:{SLOW}"

    one.throttled({key})
    two.throttled({key})  # the same burst seen by another worker: no second cut
    one.throttled({key})

    assert one.rates() == two.rates() == {key: 100.0 * 0.7}  # the start rate, cut once
    if redis is not None:
        redis.delete(prefix)


@pytest.fixture
def busy_relay() -> Iterator[str]:
    """A relay that greets every connection with 421 4.7.0 (too many connections) and hangs up."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(b"421 4.7.0 Too many connections, try again later\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"smtp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    server.close()


def test_a_relay_that_greets_with_421_slows_the_relay_and_fails_no_reader(
    app: Flask, busy_relay: str
) -> None:
    app.config["SMTP_URL"] = busy_relay
    seeded = seed_all(30, domain_of=lambda i: FAST)

    plan_deliveries(seeded.digest_id)

    progress = digest_progress(seeded.digest_id)
    assert progress.get("sent", 0) == progress.get("failed", 0) == 0
    assert progress["pending"] == 30  # not the readers' fault: back in the queue
    samples = rate_history.history(seeded.digest_id)["relay"]
    assert sum(s.throttled for s in samples) >= 1
    assert 0 < samples[0].rate < 100  # the start rate, cut
