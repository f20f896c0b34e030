"""Prometheus metrics at /metrics: ledger counts from the rows, send latency from the workers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from newsletter.admin.accounts import issue_token, save_editor
from newsletter.delivery import plan_deliveries
from tests.delivery.seed import seed_all
from tests.support.smtp import SmtpSink

OUTSIDER = {"REMOTE_ADDR": "203.0.113.9"}
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(client: FlaskClient, **kwargs: object) -> Samples:
    response = client.get("/metrics", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for s in family.samples
    }


def latency_count(metrics: Samples) -> float:
    return metrics.get(("newsletter_delivery_send_seconds_count", ()), 0.0)


def test_a_sent_digest_shows_its_readers_sent_and_the_time_each_group_took(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    before = samples(client)
    seeded = seed_all(25)

    plan_deliveries(seeded.digest_id)  # eager Celery: the drains run inline after the commit

    assert len(smtp_sink.messages) == 25
    after = samples(client)
    assert after[("newsletter_deliveries", (("state", "sent"),))] == 25
    assert after[("newsletter_deliveries", (("state", "failed"),))] == 0
    assert after[("newsletter_deliveries", (("state", "uncertain"),))] == 0
    assert after[("newsletter_digests", (("status", "finished"),))] == 1
    # 25 readers in groups of 10: three groups handed over, each one observed.
    assert latency_count(after) - latency_count(before) == 3
    handed = ("newsletter_delivery_handed_over_messages_total", ())
    assert after[handed] - before.get(handed, 0.0) == 25
    assert after[("newsletter_delivery_send_seconds_sum", ())] > 0
    slowest = ("newsletter_delivery_send_seconds_bucket", (("le", "+Inf"),))
    assert after[slowest] == latency_count(after)


def test_latency_observed_in_another_process_is_served_by_the_web_process(
    app: Flask, client: FlaskClient
) -> None:
    before = samples(client)
    worker = (
        "import worker.celery_app; "
        "from newsletter.delivery.metrics import observe_send; observe_send(0.2, 20)"
    )
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": root, "INSTANCE_PATH": app.instance_path}

    # A Celery worker's process, from its entry point, with the web app's instance folder.
    subprocess.run([sys.executable, "-c", worker], check=True, env=env, timeout=120)

    after = samples(client)
    assert latency_count(after) - latency_count(before) == 1
    within = ("newsletter_delivery_send_seconds_bucket", (("le", "0.25"),))
    assert after[within] - before.get(within, 0.0) == 1
    handed = ("newsletter_delivery_handed_over_messages_total", ())
    assert after[handed] - before.get(handed, 0.0) == 20


def test_a_digest_being_sent_is_counted_by_state_under_its_own_label(
    app: Flask, client: FlaskClient
) -> None:
    seeded = seed_all(7)
    task = app.extensions["celery"].tasks["delivery.drain"]
    original = task.apply_async
    task.apply_async = lambda *a, **k: None  # type: ignore[method-assign]
    try:
        plan_deliveries(seeded.digest_id)
    finally:
        task.apply_async = original  # type: ignore[method-assign]

    metrics = samples(client)

    digest = str(seeded.digest_id)
    pending = ("newsletter_digest_deliveries", (("digest", digest), ("state", "pending")))
    assert metrics[pending] == 7
    assert metrics[("newsletter_deliveries", (("state", "pending"),))] == 7


def test_metrics_are_refused_to_an_address_outside_the_allowed_networks(
    app: Flask, client: FlaskClient
) -> None:
    response = client.get("/metrics", environ_base=OUTSIDER)

    assert response.status_code == 403
    assert "newsletter_deliveries" not in response.get_data(as_text=True)


def test_an_editors_token_opens_metrics_from_anywhere_and_a_wrong_one_does_not(
    app: Flask, client: FlaskClient
) -> None:
    save_editor("editor@example.com", "a long enough password", is_admin=False)
    token = issue_token("editor@example.com", name="prometheus")

    good = client.get(
        "/metrics", environ_base=OUTSIDER, headers={"Authorization": f"Bearer {token}"}
    )
    bad = client.get("/metrics", environ_base=OUTSIDER, headers={"Authorization": "Bearer nope"})

    assert good.status_code == 200
    assert "newsletter_deliveries" in good.get_data(as_text=True)
    assert bad.status_code == 401


@pytest.mark.parametrize("app_overrides", [{"METRICS_ALLOWED_IPS": ["203.0.113.0/24"]}])
def test_a_configured_network_may_scrape_without_a_token(app: Flask, client: FlaskClient) -> None:
    assert client.get("/metrics", environ_base=OUTSIDER).status_code == 200
    assert client.get("/metrics").status_code == 403  # 127.0.0.1 is no longer listed
