"""An editor runs a special edition from the console in a real Chromium, against the live app,
real Celery workers and a real SMTP server: create it, preview it, mail a test, watch it go
out without reloading, and pause and resume a larger one midway. No CSP violation."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from newsletter.admin.accounts import save_editor
from newsletter.ingest.feeds import ingest_file
from newsletter.models import Region, Subscriber, SubscriberStatus, db
from tests.delivery.seed import seed_articles, seed_readers
from tests.delivery.workers import Workers
from tests.digests.conftest import SAMPLE_FEED
from tests.support.browser import csp_violations, log_in
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.browser

EDITOR, PASSWORD = "chef@revue-internationale.example", "a long enough password"
AFRICA_STORY = "Le Mali quitte le G5 Sahel"  # in the sample feed, region Afrique
# Generous: two workers start on a shared, loaded machine before the first letter leaves.
SENT_WITHIN_MS = 120_000
LARGE = 2000
# Each of the two drains sends 40 a second (no Redis: the cap is shared out per process), so
# the large sending lasts about 25 s: long enough to be paused midway.
LARGE_RATE = 80.0


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink, live_port: int) -> dict[str, Any]:
    return {
        "SMTP_URL": smtp_sink.url,
        "BASE_URL": f"http://127.0.0.1:{live_port}",
        "CELERY_ALWAYS_EAGER": False,  # the jobs go through the broker to the workers below
        "SEND_RATE_PER_SECOND": LARGE_RATE,
        "SEND_PARALLEL": 2,
        "SEND_BATCH_SIZE": 50,
        "SEND_GROUP_SIZE": 10,
    }


@pytest.fixture
def workers(app: Flask) -> Iterator[Workers]:
    """Started by the test when it wants the sending to begin; the real entry point."""
    pool = Workers(app, app_module="worker.celery_app:celery")
    yield pool
    pool.stop()


def reader(email: str, *slugs: str) -> None:
    regions = db.session.execute(db.select(Region).where(Region.slug.in_(slugs))).scalars()
    db.session.add(
        Subscriber(
            email=email,
            status=SubscriberStatus.CONFIRMED,
            confirmed_at=datetime(2022, 1, 1, tzinfo=UTC),
            regions=list(regions),
        )
    )
    db.session.commit()


def start_special(page: Any, *, regions: list[str], since: str, until: str) -> None:
    """The special edition's form, filled and sent as an editor does; lands on its page."""
    page.click("nav.admin-nav >> text=Édition spéciale")
    edition_regions = page.get_by_role("group", name="Régions (aucune cochée : toutes)")
    for name in regions:
        edition_regions.get_by_label(name, exact=True).check()
    page.fill("input[name=since]", since)
    page.fill("input[name=until]", until)
    page.fill("textarea[name=intro]", "Le Sahel, de Bamako à Niamey.")
    page.click("button:text('Lancer l’envoi')")
    page.wait_for_selector("h1:text('Édition spéciale du')")


def figure(page: Any, key: str) -> Any:
    return page.locator(f'[data-count="{key}"]')


def received(sink: SmtpSink) -> Counter[str]:
    return Counter(rcpt for message in sink.messages for rcpt in message.rcpt_tos)


def test_an_editor_previews_tests_and_sends_a_special_edition_and_watches_it_reach_100_percent(
    page: Any, live_url: str, console: list[str], smtp_sink: SmtpSink, workers: Workers
) -> None:
    ingest_file(SAMPLE_FEED)
    readers = ["awa@example.org", "karim@example.org", "lea@example.org"]
    reader(readers[0], "afrique")
    reader(readers[1], "moyen-orient")
    reader(readers[2], "afrique", "asie")
    reader("ivan@example.org", "russie")  # nothing new in these two regions for him
    save_editor(EDITOR, PASSWORD)
    log_in(page, live_url, EDITOR, PASSWORD)

    start_special(page, regions=["Afrique", "Moyen-Orient"], since="2021-12-01", until="2022-05-31")
    edition_url = page.url
    expect(page.locator('[data-live="status_label"]')).to_have_text("planifiée")

    page.click("text=Prévisualiser cette édition et envoyer un test")
    preview = page.frame_locator("iframe.preview")
    preview.locator("a", has_text=AFRICA_STORY).first.wait_for()
    page.get_by_label("Adresse").fill(EDITOR)
    page.click("button:text('Envoyer le test')")
    page.wait_for_selector(f"text=Envoi de test vers {EDITOR} demandé.")

    page.click("nav.admin-nav >> text=Éditions")
    page.click("table.editions >> text=Édition spéciale du")
    assert page.url == edition_url
    sent = figure(page, "sent")
    expect(sent).to_have_text("0")
    same_node = sent.element_handle()
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    workers.start()

    expect(page.locator('[data-live="percent"]')).to_have_text("100", timeout=SENT_WITHIN_MS)
    expect(page.locator('[data-live="status_label"]')).to_have_text("terminée")
    assert navigations == []  # the figures changed in the page as it was
    assert same_node.text_content() == "3"
    assert page.locator("#progress-bar").get_attribute("value") == "100"
    expect(figure(page, "skipped")).to_have_text("1")
    assert page.locator("[data-control]:visible").count() == 0
    [test] = smtp_sink.wait_for(EDITOR, timeout=60)
    assert test.message["Subject"].startswith("[Test]")
    assert received(smtp_sink) == Counter(readers + [EDITOR])
    assert csp_violations(console) == []


def test_an_editor_pauses_a_large_sending_midway_resumes_it_and_the_report_matches_the_relay(
    page: Any, live_url: str, console: list[str], smtp_sink: SmtpSink, workers: Workers
) -> None:
    seed_articles()
    emails = seed_readers(LARGE)
    save_editor(EDITOR, PASSWORD)
    log_in(page, live_url, EDITOR, PASSWORD)
    start_special(page, regions=[], since="2026-11-16", until="2026-11-23")
    status = page.locator('[data-live="status_label"]')
    workers.start()

    # A hundred letters out, by the page's own count, then the button.
    expect(figure(page, "sent")).to_have_text(re.compile(r"^\d{3,}$"), timeout=SENT_WITHIN_MS)
    page.click("button:text('Mettre en pause')")

    expect(status).to_have_text("en pause")
    page.wait_for_selector("text=Envoi mis en pause")
    # Once the groups handed to the relay before the pause are recorded, nothing moves.
    expect(figure(page, "sending")).to_have_text("0", timeout=SENT_WITHIN_MS)
    paused_at = int(figure(page, "sent").inner_text())
    assert 100 <= paused_at < LARGE
    assert sum(received(smtp_sink).values()) == paused_at
    assert page.locator("button:text('Mettre en pause')").is_hidden()

    page.click("button:text('Reprendre')")
    page.wait_for_selector("text=Envoi repris")
    expect(status).to_have_text("terminée", timeout=SENT_WITHIN_MS)

    report = int(figure(page, "sent").inner_text())
    assert report == sum(received(smtp_sink).values()) == LARGE
    assert received(smtp_sink) == Counter(emails)  # each reader once
    expect(page.locator('[data-live="percent"]')).to_have_text("100")
    assert csp_violations(console) == []
