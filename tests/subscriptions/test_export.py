"""`newsletter subscribers export`: every reader as CSV, safe to open in a spreadsheet, and read
back by the import as the same readers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from newsletter.models import ConsentEvent, Region, Subscriber, SubscriberStatus, db, utcnow
from newsletter.subscriptions.spreadsheet import FORMULA_START

TRICKY_NAMES = ['=HYPERLINK("http://evil.example","clic")', "+33 6 12 34 56 78", "-moi", "@home"]
CONFIRMED = SubscriberStatus.CONFIRMED


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def add_readers() -> None:
    regions = {r.slug: r for r in db.session.execute(db.select(Region)).scalars()}
    people = [
        ("=cmd@example.org", TRICKY_NAMES[0], ["asie", "afrique"], "fr", CONFIRMED),
        ("plus@example.org", TRICKY_NAMES[1], ["russie"], "en", CONFIRMED),
        ("dash@example.org", TRICKY_NAMES[2], ["moyen-orient"], "fr", CONFIRMED),
        ("at@example.org", TRICKY_NAMES[3], ["ameriques"], "fr", SubscriberStatus.UNSUBSCRIBED),
        ("plain@example.org", None, ["asie"], "fr", SubscriberStatus.PENDING),
    ]
    for email, name, slugs, language, status in people:
        db.session.add(
            Subscriber(
                email=email,
                name=name,
                language=language,
                status=status,
                confirmed_at=utcnow() if status is SubscriberStatus.CONFIRMED else None,
                regions=[regions[slug] for slug in slugs],
            )
        )
    db.session.commit()


def snapshot() -> set[tuple[str, str | None, tuple[str, ...], str]]:
    db.session.remove()
    return {
        (r.email, r.name, tuple(sorted(r.region_slugs)), r.language)
        for r in db.session.execute(db.select(Subscriber)).scalars()
    }


def test_no_cell_of_the_export_starts_like_a_formula_and_the_import_reads_it_back_the_same(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    add_readers()
    before = snapshot()
    path = tmp_path / "readers.csv"

    exported = runner.invoke(args=["subscribers", "export", str(path)])

    assert exported.exit_code == 0, exported.output
    assert "5 readers exported" in exported.output
    with path.open(encoding="utf-8", newline="") as exported_file:
        rows = list(csv.reader(exported_file))
    assert rows[0][:4] == ["email", "name", "regions", "language"]
    assert len(rows) == 6
    assert not [cell for row in rows for cell in row if cell.startswith(FORMULA_START)]
    assert "'=HYPERLINK" in path.read_text(encoding="utf-8")

    again = runner.invoke(args=["subscribers", "import", str(path)])
    assert "0 added" in again.output and "5 already known" in again.output
    db.session.execute(db.delete(ConsentEvent))
    db.session.execute(db.delete(Subscriber))
    db.session.commit()
    back = runner.invoke(
        args=["subscribers", "import", str(path), "--confirmed", "--consent-note", "export"]
    )
    assert "5 recorded as confirmed" in back.output, back.output
    assert snapshot() == before


def test_the_export_can_keep_only_some_statuses_and_write_to_standard_output(
    runner: FlaskCliRunner,
) -> None:
    add_readers()

    result = runner.invoke(
        args=["subscribers", "export", "-", "--status", "confirmed", "--status", "pending"]
    )

    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert sorted(row[0] for row in rows[1:]) == [
        "'=cmd@example.org",
        "dash@example.org",
        "plain@example.org",
        "plus@example.org",
    ]
    assert {row[4] for row in rows[1:]} == {"confirmed", "pending"}
