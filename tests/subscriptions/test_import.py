"""Bringing a list over: good rows in, each bad row reported with its reason, reruns idle."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from newsletter.models import (
    ConsentEvent,
    ConsentKind,
    Subscriber,
    SubscriberStatus,
    Suppression,
    SuppressionReason,
    db,
)
from newsletter.subscriptions.addresses import email_hmac
from tests.support.smtp import SmtpSink

CSV = (
    "email,name,regions,language\n"
    "Alice@Example.org,Alice,asie;afrique,fr\n"
    "bob@example.org,,russie,en\n"
    "carol@bücher.example,Carol,all,\n"
    "not-an-address,Dan,asie,fr\n"
    "erin@example.org,Erin,atlantide,fr\n"
    '"frank@example.org","Frank\r\nBcc: victim@example.net",asie,fr\n'
    "alice@example.org,Alice again,russie,fr\n"
    "gone@example.org,Gone,asie,fr\n"
    "hank@example.org,Hank,,fr\n"
)


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def csv_file(tmp_path: Path, app: Flask) -> Path:
    # An erased reader: the import must not bring them back.
    db.session.add(
        Suppression(email_hmac=email_hmac("gone@example.org"), reason=SuppressionReason.ERASED)
    )
    db.session.commit()
    path = tmp_path / "old-tool-export.csv"
    path.write_bytes(CSV.encode())
    return path


def readers() -> dict[str, Subscriber]:
    db.session.remove()
    rows = db.session.execute(db.select(Subscriber)).scalars()
    return {row.email: row for row in rows}


def test_importing_a_csv_adds_the_good_rows_reports_each_bad_one_and_a_rerun_changes_nothing(
    runner: FlaskCliRunner, csv_file: Path, smtp_sink: SmtpSink
) -> None:
    result = runner.invoke(args=["subscribers", "import", str(csv_file)])
    assert result.exit_code == 0, result.output
    assert "line 5: 'not-an-address' rejected: malformed address" in result.output
    assert "line 6: 'erin@example.org' rejected: unknown region 'atlantide'" in result.output
    assert "line 7: 'frank@example.org' rejected: CR/LF in a field" in result.output
    assert "rejected: duplicate of line 2" in result.output
    assert "'gone@example.org' rejected: on the suppression list" in result.output
    assert "'hank@example.org' rejected: no region" in result.output
    assert "3 added, confirmation emails queued; 0 already known; 6 rejected" in result.output

    imported = readers()
    assert sorted(imported) == ["alice@example.org", "bob@example.org", "carol@bücher.example"]
    assert imported["alice@example.org"].region_slugs == ["asie", "afrique"]
    assert imported["bob@example.org"].language == "en"
    assert len(imported["carol@bücher.example"].region_slugs) == 7
    assert {r.status for r in imported.values()} == {SubscriberStatus.PENDING}
    for email in ("alice@example.org", "bob@example.org", "carol@xn--bcher-kva.example"):
        assert len(smtp_sink.wait_for(email)) == 1
    assert smtp_sink.to("victim@example.net") == []

    again = runner.invoke(args=["subscribers", "import", str(csv_file)])
    assert again.exit_code == 0, again.output
    assert "0 added, confirmation emails queued; 3 already known; 6 rejected" in again.output
    assert len(readers()) == 3
    assert db.session.execute(db.select(db.func.count(ConsentEvent.id))).scalar_one() == 3
    assert len(smtp_sink.messages) == 3


def test_importing_as_confirmed_records_the_prior_consent_and_mails_no_one(
    runner: FlaskCliRunner, csv_file: Path, smtp_sink: SmtpSink
) -> None:
    result = runner.invoke(
        args=[
            "subscribers",
            "import",
            str(csv_file),
            "--confirmed",
            "--consent-note",
            "Opted in on the old site's form, 2025",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "3 recorded as confirmed" in result.output
    assert {r.status for r in readers().values()} == {SubscriberStatus.CONFIRMED}
    events = db.session.execute(db.select(ConsentEvent)).scalars().all()
    assert {e.kind for e in events} == {ConsentKind.IMPORT}
    assert {e.source for e in events} == {"import:old-tool-export.csv"}
    assert events[0].detail["note"] == "Opted in on the old site's form, 2025"
    assert smtp_sink.messages == []


def test_importing_as_confirmed_without_a_consent_note_is_refused(
    runner: FlaskCliRunner, csv_file: Path
) -> None:
    result = runner.invoke(args=["subscribers", "import", str(csv_file), "--confirmed"])
    assert result.exit_code == 2
    assert "--confirmed needs --consent-note" in result.output
    assert readers() == {}


def test_a_file_without_an_email_column_is_refused_whole(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("mail,name\na@example.org,A\n")
    result = runner.invoke(args=["subscribers", "import", str(path)])
    assert result.exit_code == 1
    assert "no 'email' column" in result.output
    assert readers() == {}
