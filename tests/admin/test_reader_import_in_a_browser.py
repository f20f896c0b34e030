"""An admin imports 10,000 readers from the console in a real Chromium, against the live app
and a real Celery worker: the form, the page that follows the worker, the report with the
right counts and every bad row, the CSV downloaded with those rows. No CSP violation."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from newsletter.admin.accounts import save_editor
from newsletter.models import Subscriber, SubscriberStatus, db
from tests.delivery.workers import Workers
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.browser

ADMIN, PASSWORD = "chef@revue-internationale.example", "a long enough password"
ROWS = 10_000
BAD_EVERY = 500  # 20 malformed addresses, then one unknown region and one duplicate
# Generous: a worker starts on a shared, loaded machine, then imports 10,000 rows.
IMPORTED_WITHIN_MS = 180_000


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink, live_port: int) -> dict[str, Any]:
    return {
        "SMTP_URL": smtp_sink.url,
        "BASE_URL": f"http://127.0.0.1:{live_port}",
        "CELERY_ALWAYS_EAGER": False,  # the import goes through the broker to the worker below
    }


@pytest.fixture
def workers(app: Flask) -> Iterator[Workers]:
    pool = Workers(app, count=1, app_module="worker.celery_app:celery")
    yield pool
    pool.stop()


@pytest.fixture
def page(live_url: str, browser: Any, console: list[str]) -> Iterator[Any]:
    context = browser.new_context(locale="fr-FR", accept_downloads=True)
    context.set_default_timeout(30_000)
    context.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(live_url) else route.abort()
        ),
    )
    page = context.new_page()
    page.on("console", lambda message: console.append(message.text))
    yield page
    context.close()


def ten_thousand_rows(path: Path) -> dict[int, str]:
    """The file, and its bad rows by line number (the header is line 1)."""
    bad: dict[int, str] = {}
    lines = ["email;name;regions;language"]
    for i in range(ROWS):
        line = i + 2
        if i % BAD_EVERY == 0:
            lines.append(f"lecteur-{i}-sans-arobase;Lecteur {i};asie;fr")
            bad[line] = f"lecteur-{i}-sans-arobase"
        else:
            lines.append(f"lecteur-{i}@example.org;Lecteur {i};asie,afrique;fr")
    lines.append("atlantide@example.org;Nobody;atlantide;fr")
    bad[ROWS + 2] = "atlantide@example.org"
    lines.append("lecteur-1@example.org;Lecteur 1 again;asie;fr")
    bad[ROWS + 3] = "lecteur-1@example.org"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")  # Excel's CSV UTF-8
    return bad


def test_an_admin_imports_ten_thousand_readers_and_downloads_the_report_of_the_bad_rows(
    page: Any, live_url: str, console: list[str], workers: Workers, tmp_path: Path
) -> None:
    csv_file = tmp_path / "abonnes-ancien-outil.csv"
    bad = ten_thousand_rows(csv_file)
    save_editor(ADMIN, PASSWORD, is_admin=True)
    page.goto(f"{live_url}/admin/login")
    page.fill("#email", ADMIN)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:text('Tableau de bord')")
    workers.start()

    page.goto(f"{live_url}/admin/readers/imports")
    page.set_input_files("input[type=file]", str(csv_file))
    # Without the box the browser itself keeps the form (the server's refusal is tested too).
    page.fill("textarea[name=consent_note]", "Inscrits sur le formulaire de l’ancien site")
    page.click("button:text('Importer')")
    assert page.locator("#import-consent").evaluate("box => box.validity.valueMissing")
    assert db.session.execute(db.select(db.func.count(Subscriber.id))).scalar_one() == 0

    page.check("#import-consent")
    page.click("button:text('Importer')")
    page.wait_for_selector("h1:text('Import de abonnes-ancien-outil.csv')")
    # The page follows the worker and shows the report once it is done, without a click.
    added = ROWS - ROWS // BAD_EVERY
    expect(page.locator('[data-count="added"]')).to_have_text(
        str(added), timeout=IMPORTED_WITHIN_MS
    )
    expect(page.locator('[data-count="already_known"]')).to_have_text("0")
    expect(page.locator('[data-count="rejected"]')).to_have_text(str(len(bad)))
    rows = page.locator("table.rejections tbody tr")
    expect(rows).to_have_count(len(bad))
    expect(rows.first).to_contain_text("adresse mal formée")
    expect(rows.last).to_contain_text("doublon de la ligne 3")

    with page.expect_download() as download_info:
        page.click("text=Télécharger les lignes refusées (CSV)")
    download = download_info.value
    assert download.suggested_filename == "rapport-abonnes-ancien-outil.csv"
    report = Path(download.path()).read_text(encoding="utf-8-sig")
    found = {int(row[0]): row[1] for row in list(csv.reader(io.StringIO(report)))[1:]}
    assert found == bad

    db.session.remove()
    readers = db.session.execute(db.select(Subscriber.status)).scalars().all()
    assert len(readers) == added
    assert set(readers) == {SubscriberStatus.CONFIRMED}
    assert [text for text in console if "Content Security Policy" in text] == []
