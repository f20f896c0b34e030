"""axe-core's WCAG 2.1 A and AA rules, in Chromium, on the readers' form and every page of the
editors' console: no violation."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from newsletter.digests.editions import create_special
from newsletter.ingest.feeds import ingest_file
from newsletter.models import (
    Editor,
    ReaderImport,
    ReaderImportRejection,
    ReaderImportState,
    Subscriber,
    db,
)
from newsletter.subscriptions.tokens import reader_links
from tests.delivery.seed import seed_readers
from tests.digests.conftest import SAMPLE_FEED, SAMPLE_SINCE, SAMPLE_UNTIL
from tests.support.axe import violations
from tests.support.browser import log_in
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.browser

EDITOR, PASSWORD = "chef@revue-internationale.example", "a long enough password"


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink, live_port: int) -> dict[str, Any]:
    return {"SMTP_URL": smtp_sink.url, "BASE_URL": f"http://127.0.0.1:{live_port}"}


@pytest.fixture
def page_options() -> dict[str, Any]:
    # axe is injected by the test, not by the page: the policy would rightly refuse it.
    return {"bypass_csp": True}


def test_the_readers_form_and_every_console_page_pass_wcag_aa(
    app: Flask, page: Any, live_url: str
) -> None:
    ingest_file(SAMPLE_FEED)
    (email,) = seed_readers(1)  # mailed the edition: it is in the public archive
    digest = create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL).digest
    reader = db.session.execute(db.select(Subscriber).where(Subscriber.email == email)).scalar_one()
    reader_import = ReaderImport(
        filename="liste.csv", encoding="utf-8", consent_note="formulaire", rejected=1
    )
    reader_import.state = ReaderImportState.DONE
    queued_import = ReaderImport(filename="suite.csv", encoding="utf-8", consent_note="salon")
    db.session.add_all([reader_import, queued_import])
    db.session.flush()
    db.session.add(
        ReaderImportRejection(import_id=reader_import.id, line=2, email="x", reason="no region")
    )
    editor = Editor(email=EDITOR, is_admin=True)  # every page, the admins' included
    editor.set_password(PASSWORD)
    db.session.add(editor)
    db.session.commit()
    found: dict[str, list[str]] = {}

    archive = ["/archive/", f"/archive/{digest.id}/", "/archive/union-europeenne/"]
    for path in ["/", *archive]:
        page.goto(live_url + path)
        found[path] = violations(page)
    # Leaving: the unsubscribe page, the optional question after it, and its thanks.
    page.goto(reader_links(reader.id).unsubscribe_url)
    found["unsubscribe"] = violations(page)
    page.click("main form button[type=submit]")
    page.wait_for_selector("form.leave-question")
    found["why leave"] = violations(page)
    page.check("input[value=too-many]")
    page.fill("#leave-comment", "Une lettre par mois suffirait")
    page.click("form.leave-question button[type=submit]")
    page.wait_for_url("**/leaving*")
    found["thanks for answering"] = violations(page)
    page.goto(live_url + "/admin/login")
    found["/admin/login"] = violations(page)
    log_in(page, live_url, EDITOR, PASSWORD)
    console = [
        "/admin/",
        "/admin/digests",
        f"/admin/digests/{digest.id}",
        "/admin/digests/special",
        f"/admin/digests/preview?digest={digest.id}&regions=afrique",
        "/admin/articles",
        "/admin/articles?sans_region=1",
        "/admin/articles/1",
        "/admin/feeds",
        "/admin/me",
        "/admin/accounts",
        "/admin/tokens",
        "/admin/audit",
        "/admin/readers",
        f"/admin/readers/{reader.id}",
        f"/admin/readers/{reader.id}/erase",
        "/admin/readers/imports",
        f"/admin/readers/imports/{reader_import.id}",
        f"/admin/readers/imports/{queued_import.id}",
    ]
    for path in console:
        page.goto(live_url + path)
        found[path] = violations(page)

    assert {path: problems for path, problems in found.items() if problems} == {}
