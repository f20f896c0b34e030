"""The send rate section of an edition's page, in Chromium: drawn, tabulated, and WCAG AA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from newsletter.delivery import rate_history
from newsletter.models import Editor, db
from tests.delivery.seed import seed_digest
from tests.support.axe import violations
from tests.support.browser import log_in
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.browser

EDITOR, PASSWORD = "debit@revue-internationale.example", "a long enough password"
SLOW = "slowmail.example"


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink, live_port: int) -> dict[str, Any]:
    return {"SMTP_URL": smtp_sink.url, "BASE_URL": f"http://127.0.0.1:{live_port}"}


@pytest.fixture
def page_options() -> dict[str, Any]:
    # axe is injected by the test, not by the page: the policy would rightly refuse it.
    return {"bypass_csp": True}


def test_an_editor_sees_the_rate_a_slowed_domain_was_allowed_minute_by_minute(
    app: Flask, live_url: str, page: Any
) -> None:
    digest_id = seed_digest()
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    for minute, (rate, sent, throttled) in enumerate([(28.0, 1500, 12), (36.0, 2100, 3)]):
        rate_history.note(
            digest_id,
            {f"domain:{SLOW}": rate_history.Tally(rate, sent, throttled)},
            now=start + timedelta(minutes=minute),
        )
    editor = Editor(email=EDITOR, is_admin=False)
    editor.set_password(PASSWORD)
    db.session.add(editor)
    db.session.commit()

    log_in(page, live_url, EDITOR, PASSWORD)
    page.goto(f"{live_url}/admin/digests/{digest_id}")

    section = page.locator("section.send-rates")
    assert section.locator("h3").inner_text() == SLOW
    chart = section.locator("svg[role=img]")
    assert chart.is_visible()
    assert SLOW in (chart.get_attribute("aria-label") or "")
    rows = section.locator("table.send-rate tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).locator("td").all_inner_texts() == ["28.0", "1500", "12"]
    assert rows.nth(1).locator("td").all_inner_texts() == ["36.0", "2100", "3"]
    assert violations(page) == []
