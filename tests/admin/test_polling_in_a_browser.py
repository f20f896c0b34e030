"""The console's pages that follow a job without a reload share one poller (admin-poll.js): in a
real Chromium against the live app, an edition's page writes its figures in place and says so
when the session has ended; a reader import's page writes the lines read in place and reloads
to show its report once the import has ended. No script error, no CSP violation."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from newsletter.admin.accounts import save_editor
from newsletter.models import (
    Delivery,
    DeliveryState,
    DigestKind,
    DigestStatus,
    EditorSession,
    ReaderImport,
    ReaderImportState,
    db,
)
from tests.admin.test_editions import edition, rows
from tests.support.browser import csp_violations, log_in

pytestmark = pytest.mark.browser

ADMIN, PASSWORD = "chef@revue-internationale.example", "a long enough password"


@pytest.fixture
def errors(page: Any) -> list[str]:
    """Uncaught script errors (a poller missing or loaded after the page's script lands here)."""
    found: list[str] = []
    page.on("pageerror", lambda error: found.append(str(error)))
    return found


def test_an_editions_page_follows_its_figures_and_says_when_the_session_ended(
    page: Any, live_url: str, console: list[str], errors: list[str]
) -> None:
    digest = edition("special-polled", DigestKind.SPECIAL, status=DigestStatus.SENDING)
    rows(digest.id, DeliveryState.PENDING, 3)
    save_editor(ADMIN, PASSWORD)
    log_in(page, live_url, ADMIN, PASSWORD)
    page.goto(f"{live_url}/admin/digests/{digest.id}")
    sent = page.locator('[data-count="sent"]')
    expect(sent).to_have_text("0")
    stale = page.locator('[data-live="stale"]')
    expect(stale).to_be_hidden()

    first = db.session.execute(db.select(Delivery).where(Delivery.digest_id == digest.id)).scalar()
    first.state = DeliveryState.SENT
    db.session.commit()
    expect(sent).to_have_text("1")
    expect(page.locator('[data-count="pending"]')).to_have_text("2")
    db.session.execute(db.delete(EditorSession))
    db.session.commit()

    # The figures' URL now answers with the login page: the page stops and says so.
    expect(stale).to_be_visible()
    assert errors == []
    assert csp_violations(console) == []


def test_a_reader_imports_page_follows_the_lines_read_and_shows_the_report_at_the_end(
    page: Any, live_url: str, console: list[str], errors: list[str]
) -> None:
    save_editor(ADMIN, PASSWORD)
    running = ReaderImport(
        filename="lecteurs.csv",
        encoding="utf-8",
        consent_note="Formulaire papier du salon",
        state=ReaderImportState.RUNNING,
        lines_total=10,
        lines_read=2,
    )
    db.session.add(running)
    db.session.commit()
    log_in(page, live_url, ADMIN, PASSWORD)
    page.goto(f"{live_url}/admin/readers/imports/{running.id}")
    read = page.locator('#import-progress [data-live="read"]')
    expect(read).to_have_text("2")

    running.lines_read = 7
    db.session.commit()
    expect(read).to_have_text("7")
    assert page.locator("#import-bar").get_attribute("value") == "7"
    running.state, running.lines_read, running.added = ReaderImportState.DONE, 10, 10
    db.session.commit()

    expect(page.locator('[data-count="added"]')).to_have_text("10")
    expect(page.locator("#import-progress")).to_have_count(0)
    assert errors == []
    assert csp_violations(console) == []
