"""The SMTP stream a sending process keeps between tasks: held by the app, kept between drains,
replaced when the relay's settings change, closed on demand (worker shutdown)."""

from __future__ import annotations

from collections import Counter

from flask import Flask

from newsletter.delivery import plan_deliveries, process_stream
from tests.delivery.seed import seed_all, seed_digest
from tests.support.smtp import SmtpSink


def test_the_stream_is_kept_between_drains_and_replaced_when_the_relay_changes(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    first = process_stream.of_app(app)
    assert process_stream.of_app(app) is first
    first.sender()  # its SMTP thread, as after a batch

    app.config["SMTP_URL"] = smtp_sink.url + "?starttls=0"
    second = process_stream.of_app(app)

    assert second is not first
    assert first._sender is None  # the old stream's thread is gone with it
    process_stream.close(app)
    assert process_stream.EXTENSION not in app.extensions
    process_stream.close(app)  # nothing held: nothing to do


def test_each_app_has_its_own_stream(app: Flask, smtp_sink: SmtpSink) -> None:
    other = Flask("other")
    other.config.update(app.config)

    assert process_stream.of_app(other) is not process_stream.of_app(app)
    process_stream.close(other)


def test_drains_send_through_the_apps_stream_and_leave_it_open(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    seeded = seed_all(5)
    plan_deliveries(seeded.digest_id)  # eager Celery: the drains run inline after the commit
    stream = process_stream.of_app(app)

    plan_deliveries(seed_digest("special-test-2"))

    assert process_stream.of_app(app) is stream
    received = Counter(rcpt for m in smtp_sink.messages for rcpt in m.rcpt_tos)
    assert received == Counter(seeded.emails * 2)
