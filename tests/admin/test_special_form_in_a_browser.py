"""An editor uses the special edition's form in a real Chromium: searches the period's
articles for a top story, previews it pinned, mails a test, then schedules the edition a few
seconds ahead and sees it leave when the beat's task runs. No CSP violation; axe-core finds
no WCAG violation on the form as the script leaves it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from playwright.sync_api import expect

from newsletter.admin.accounts import save_editor
from newsletter.digests.schedule import start_due
from newsletter.ingest.feeds import ingest_file
from newsletter.models import Digest, DigestStatus, db, utcnow
from tests.admin.test_editions_in_a_browser import (
    AFRICA_STORY,
    EDITOR,
    PASSWORD,
    SENT_WITHIN_MS,
    reader,
    received,
)
from tests.delivery.workers import Workers
from tests.digests.conftest import SAMPLE_FEED
from tests.support.axe import violations
from tests.support.browser import csp_violations, log_in
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.browser


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink, live_port: int) -> dict[str, Any]:
    return {
        "SMTP_URL": smtp_sink.url,
        "BASE_URL": f"http://127.0.0.1:{live_port}",
        "CELERY_ALWAYS_EAGER": False,
    }


@pytest.fixture
def workers(app: Flask) -> Iterator[Workers]:
    pool = Workers(app, app_module="worker.celery_app:celery")
    yield pool
    pool.stop()


def axe_violations(new_page: Callable[..., Any], page: Any, live_url: str) -> list[str]:
    """axe-core on the form with its search in use, in a context that lets the test inject it
    (the editor's session cookie borrowed)."""
    other = new_page(bypass_csp=True)
    other.context.add_cookies(page.context.cookies())
    other.goto(f"{live_url}/admin/digests/special")
    other.fill("input[name=since]", "2021-12-01")
    other.get_by_label("Chercher parmi les articles de la période").fill("sahel")
    expect(other.locator("#pinned-found")).not_to_be_empty()
    found = violations(other)
    other.context.close()
    return found


def test_an_editor_picks_a_top_story_previews_tests_and_schedules_a_special_edition(
    app: Flask,
    page: Any,
    new_page: Callable[..., Any],
    live_url: str,
    console: list[str],
    smtp_sink: SmtpSink,
    workers: Workers,
) -> None:
    ingest_file(SAMPLE_FEED)
    reader("awa@example.org", "afrique")
    reader("lea@example.org", "afrique", "asie")
    save_editor(EDITOR, PASSWORD)
    log_in(page, live_url, EDITOR, PASSWORD)
    workers.start()

    page.click("nav.admin-nav >> text=Édition spéciale")
    page.get_by_role("group", name="Régions (aucune cochée : toutes)").get_by_label(
        "Afrique", exact=True
    ).check()
    page.fill("input[name=since]", "2021-12-01")
    page.fill("input[name=until]", "2022-05-31")
    search = page.get_by_label("Chercher parmi les articles de la période")
    search.fill("mali g5")  # no capital, no accent: still found
    picker = page.locator("select#pinned")
    expect(picker.locator("option")).to_have_count(2)  # "no top story" and the one found
    picker.select_option(label=picker.locator("option").nth(1).text_content())
    assert AFRICA_STORY in picker.locator("option:checked").text_content()

    page.click("button:text('Aperçu')")
    preview = page.frame_locator("iframe.preview")
    preview.locator(".top a", has_text=AFRICA_STORY).first.wait_for()

    page.click("button:text('Envoyer un test')")
    page.wait_for_selector(f"text=Envoi de test vers {EDITOR} demandé.")
    [test] = smtp_sink.wait_for(EDITOR, timeout=60)
    assert test.message["Subject"].startswith("[Test]") and AFRICA_STORY in test.message["Subject"]
    assert db.session.execute(db.select(Digest)).first() is None
    assert axe_violations(new_page, page, live_url) == []

    # The form came back as it was: schedule it for a few seconds ahead.
    assert AFRICA_STORY in picker.locator("option:checked").text_content()
    leaves = utcnow() + timedelta(seconds=4)
    page.get_by_label("Envoyer à une heure donnée").check()
    local = leaves.astimezone(ZoneInfo(app.config["TIMEZONE"]))
    page.fill("input[name=send_at]", f"{local:%Y-%m-%dT%H:%M:%S}")
    page.click("button:text('Lancer l’envoi')")
    page.wait_for_selector("h1:text('Édition spéciale du')")
    expect(page.locator('[data-live="status_label"]')).to_have_text("planifiée")
    db.session.expire_all()
    digest = db.session.execute(db.select(Digest)).scalar_one()
    assert digest.send_at is not None and digest.pinned_article_id is not None
    assert start_due() == []  # not yet: nothing leaves before its time
    assert received(smtp_sink)["awa@example.org"] == 0

    time.sleep(max(0.0, (leaves - utcnow()).total_seconds()) + 0.5)
    assert start_due() == [digest.id]  # what beat runs every minute
    assert start_due() == []  # once

    expect(page.locator('[data-live="status_label"]')).to_have_text(
        "terminée", timeout=SENT_WITHIN_MS
    )
    smtp_sink.wait_for("lea@example.org", timeout=60)
    assert received(smtp_sink) == {EDITOR: 1, "awa@example.org": 1, "lea@example.org": 1}
    db.session.expire_all()
    assert db.session.get(Digest, digest.id).status is DigestStatus.FINISHED  # type: ignore[union-attr]
    assert csp_violations(console) == []
