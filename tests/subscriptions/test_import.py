"""Bringing a list over: good rows in, each bad row reported with its reason, reruns idle."""

from __future__ import annotations

import codecs
import csv
import gzip
from pathlib import Path

import pytest
from click.testing import Result
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
from newsletter.subscriptions.addresses import MAX_EMAIL_LENGTH, email_hmac
from newsletter.subscriptions.forms import MAX_NAME_LENGTH
from newsletter.subscriptions.importer import CHUNK_SIZE
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
    assert (
        "line 7: 'frank@example.org' rejected: CR/LF in a field (the row runs over lines 7-8)"
    ) in result.output
    assert "rejected: duplicate of line 2" in result.output
    assert "'gone@example.org' rejected: suppressed (erased, bounced or complained)" in (
        result.output
    )
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
    assert file_error(result) == (
        f"Error: {path}: no 'email' column; the header line has 'mail', 'name'"
        " (the first line must name the columns: email, name, regions, language)"
    )
    assert readers() == {}


def file_error(result: Result) -> str:
    """The one line a refused file gets: exit code 1, no traceback, nothing else printed."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.output.splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def write(tmp_path: Path, content: bytes, name: str = "list.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def rejections(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("line ")]


def test_a_field_over_csvs_size_limit_rejects_its_row_and_keeps_the_rows_around_it(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    limit = csv.field_size_limit()
    path = write(
        tmp_path,
        (
            "email,name,regions,language\n"
            "before@example.org,Before,asie,fr\n"
            f"huge@example.org,{'x' * (limit + 1)},asie,fr\n"
            "after@example.org,After,asie,fr\n"
        ).encode(),
    )
    result = runner.invoke(args=["subscribers", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert rejections(result.output) == [
        f"line 3: '' rejected: a field longer than {limit} characters"
    ]
    assert "2 added, confirmation emails queued; 0 already known; 1 rejected" in result.output
    assert sorted(readers()) == ["after@example.org", "before@example.org"]


def test_a_name_or_an_address_over_our_limits_rejects_its_row_only(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    long_address = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".org"
    assert len(long_address) > MAX_EMAIL_LENGTH
    path = write(
        tmp_path,
        (
            "email,name,regions,language\n"
            "first@example.org,First,asie,fr\n"
            f"long-name@example.org,{'N' * (MAX_NAME_LENGTH + 1)},asie,fr\n"
            f"{long_address},Long,asie,fr\n"
            "last@example.org,Last,asie,fr\n"
        ).encode(),
    )
    result = runner.invoke(args=["subscribers", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert rejections(result.output) == [
        f"line 3: 'long-name@example.org' rejected: name longer than {MAX_NAME_LENGTH} characters",
        f"line 4: '{long_address[:79]}…' rejected: address longer than 254 characters",
    ]
    assert sorted(readers()) == ["first@example.org", "last@example.org"]


@pytest.mark.parametrize("header", ["email,name,email,regions", "Email,name,regions,EMAIL "])
def test_a_header_naming_a_column_twice_is_refused_whole(
    runner: FlaskCliRunner, tmp_path: Path, header: str
) -> None:
    path = write(tmp_path, f"{header}\na@example.org,A,b@example.org,asie\n".encode())
    result = runner.invoke(args=["subscribers", "import", str(path)])
    assert file_error(result).startswith(
        f"Error: {path}: the header names the column 'email' twice (columns 1 and "
    )
    assert "ambiguous, nothing imported" in result.output
    assert readers() == {}


def test_unknown_columns_are_ignored_and_mentioned_once(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        (
            b"email,phone,name,regions,language,Notes,\n"
            b"alice@example.org,0102030405,Alice,asie,fr,met at the fair,\n"
            b"bob@example.org,,Bob,russie,en,,\n"
        ),
    )
    result = runner.invoke(args=["subscribers", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.count("columns ignored") == 1
    assert (
        "columns ignored (only email, name, regions, language are read):"
        " 'phone', 'notes', column 7 (no name)"
    ) in result.output
    assert "2 added, confirmation emails queued; 0 already known; 0 rejected" in result.output
    imported = readers()
    assert imported["alice@example.org"].name == "Alice"
    assert imported["bob@example.org"].language == "en"


def test_a_nul_byte_is_reported_as_such_on_its_line_and_quoted_line_breaks_keep_numbering(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        (
            b"email,name,regions,language\r\n"
            b"alice@example.org,Alice,asie,fr\r\n"
            b"eve@exa\x00mple.org,Eve,asie,fr\r\n"
            b'"bob@example.org","Bob\r\nthe builder",asie,fr\r\n'
            b"carol@example.org,Ca\x00rol,asie,fr\r\n"
            b"dan@example.org,Dan,asie,fr\r\n"
        ),
    )
    result = runner.invoke(args=["subscribers", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert rejections(result.output) == [
        "line 3: 'eve@exa\\x00mple.org' rejected: NUL byte in a field",
        "line 4: 'bob@example.org' rejected: CR/LF in a field (the row runs over lines 4-5)",
        "line 6: 'carol@example.org' rejected: NUL byte in a field",
    ]
    assert sorted(readers()) == ["alice@example.org", "dan@example.org"]


def test_a_quote_left_open_is_reported_with_the_lines_it_swallowed(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        (
            b"email,name,regions,language\n"
            b'alice@example.org,"Alice,asie,fr\n'
            b"bob@example.org,Bob,asie,fr\n"
            b'carol@example.org,Carol",asie,fr\n'
            b"dan@example.org,Dan,asie,fr\n"
        ),
    )
    result = runner.invoke(args=["subscribers", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert rejections(result.output) == [
        "line 2: 'alice@example.org' rejected: CR/LF in a field"
        " (the row runs over lines 2-4: a quote left open?)",
    ]
    assert sorted(readers()) == ["dan@example.org"]


def test_a_utf8_byte_order_mark_is_accepted(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        codecs.BOM_UTF8 + "email,name,regions\nlea@example.org,Léa,asie\n".encode(),
    )
    result = runner.invoke(args=["subscribers", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "columns ignored" not in result.output
    assert readers()["lea@example.org"].name == "Léa"


@pytest.mark.parametrize(
    "content",
    [
        'email;name;regions;language\nlea@example.org;Léa;"asie;afrique";fr\n'
        "tom@example.org;Tom;russie,ameriques;en\n",
        "email\tname\tregions\tlanguage\nlea@example.org\tLéa\tasie;afrique\tfr\n"
        "tom@example.org\tTom\trussie;ameriques\ten\n",
    ],
    ids=["semicolons", "tabs"],
)
def test_semicolon_and_tab_delimited_files_are_recognised_from_their_header(
    runner: FlaskCliRunner, tmp_path: Path, content: str
) -> None:
    path = write(tmp_path, content.encode())
    result = runner.invoke(args=["subscribers", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 added, confirmation emails queued; 0 already known; 0 rejected" in result.output
    imported = readers()
    assert imported["lea@example.org"].region_slugs == ["asie", "afrique"]
    assert imported["tom@example.org"].region_slugs == ["russie", "ameriques"]
    assert imported["tom@example.org"].language == "en"


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_a_file_in_another_encoding_is_refused_with_its_line_until_encoding_is_given(
    runner: FlaskCliRunner, tmp_path: Path, encoding: str
) -> None:
    path = write(
        tmp_path,
        "email,name,regions\nanne@example.org,Anne,asie\nzoe@example.org,Zoé,asie\n".encode(
            encoding
        ),
    )
    refused = runner.invoke(args=["subscribers", "import", str(path)])
    assert file_error(refused) == (
        f"Error: {path}: line 3: not valid UTF-8 (byte 0xe9); say the file's encoding with"
        " --encoding, e.g. --encoding cp1252 (Excel on Windows) or --encoding latin-1"
    )
    assert readers() == {}

    result = runner.invoke(args=["subscribers", "import", str(path), "--encoding", encoding])
    assert result.exit_code == 0, result.output
    assert readers()["zoe@example.org"].name == "Zoé"


def test_an_unknown_encoding_is_refused_in_one_line(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, b"email,regions\na@example.org,asie\n")
    result = runner.invoke(args=["subscribers", "import", str(path), "--encoding", "klingon"])
    assert file_error(result) == f"Error: {path}: unknown encoding 'klingon'"
    assert readers() == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"\r\n\n  \n", "the file is empty"),
        (b"email,name,regions,language\n", "no rows under the header line"),
        (b"email,name,regions,language\n,,,\n\n", "no rows under the header line"),
    ],
    ids=["zero-bytes", "blank-lines", "header-only", "header-and-empty-rows"],
)
def test_an_empty_file_is_refused_in_one_line(
    runner: FlaskCliRunner, tmp_path: Path, content: bytes, message: str
) -> None:
    path = write(tmp_path, content)
    result = runner.invoke(args=["subscribers", "import", str(path)])
    assert file_error(result) == f"Error: {path}: {message}"


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (PNG, "not a CSV file: this is a PNG image"),
        (gzip.compress(CSV.encode()), "not a CSV file: this is a gzip archive"),
        (
            CSV.encode("utf-16"),
            "the file is in UTF-16: import it with --encoding utf-16",
        ),
        (
            b"\x00\x01\x02\x03binary\x00\n",
            "NUL bytes in the header line: a binary file, or UTF-16 text"
            " (then import it with --encoding utf-16)",
        ),
    ],
    ids=["png", "gzip", "utf-16", "other-binary"],
)
def test_a_binary_file_is_refused_in_one_line(
    runner: FlaskCliRunner, tmp_path: Path, content: bytes, message: str
) -> None:
    path = write(tmp_path, content)
    result = runner.invoke(args=["subscribers", "import", str(path)])
    assert file_error(result) == f"Error: {path}: {message}"
    assert readers() == {}


def test_a_utf16_file_imports_with_its_encoding_given(
    runner: FlaskCliRunner, csv_file: Path
) -> None:
    csv_file.write_bytes(CSV.encode("utf-16"))
    result = runner.invoke(args=["subscribers", "import", str(csv_file), "--encoding", "utf-16"])
    assert result.exit_code == 0, result.output
    assert "3 added, confirmation emails queued; 0 already known; 6 rejected" in result.output


@pytest.mark.parametrize("reason", list(SuppressionReason))
@pytest.mark.parametrize("confirmed", [False, True], ids=["pending", "confirmed"])
def test_a_suppressed_address_is_never_brought_back_and_the_reason_is_not_told(
    runner: FlaskCliRunner, tmp_path: Path, reason: SuppressionReason, confirmed: bool
) -> None:
    db.session.add(Suppression(email_hmac=email_hmac("gone@example.org"), reason=reason))
    db.session.commit()
    path = write(
        tmp_path,
        b"email,name,regions\nGone@Example.org,Gone,asie\nstay@example.org,Stay,asie\n",
    )
    consent = ["--confirmed", "--consent-note", "old form"] if confirmed else []
    result = runner.invoke(args=["subscribers", "import", str(path), *consent])
    assert result.exit_code == 0, result.output
    assert rejections(result.output) == [
        "line 2: 'gone@example.org' rejected: suppressed (erased, bounced or complained)"
    ]
    assert sorted(readers()) == ["stay@example.org"]


def test_a_long_file_is_written_in_chunks_and_every_good_row_arrives(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    rows = [f"reader{i}@example.org,Reader {i},asie,fr" for i in range(2 * CHUNK_SIZE + 500)]
    bad = {5, CHUNK_SIZE - 1, CHUNK_SIZE, 2 * CHUNK_SIZE + 10}
    for i in bad:
        rows[i] = f"broken{i},Broken,asie,fr"
    path = write(tmp_path, ("email,name,regions,language\n" + "\n".join(rows)).encode())
    result = runner.invoke(
        args=["subscribers", "import", str(path), "--confirmed", "--consent-note", "old form"]
    )
    assert result.exit_code == 0, result.output
    assert rejections(result.output) == [
        f"line {i + 2}: 'broken{i}' rejected: malformed address" for i in sorted(bad)
    ]
    added = len(rows) - len(bad)
    assert f"{added} recorded as confirmed; 0 already known; 4 rejected" in result.output
    count = db.select(db.func.count(Subscriber.id))
    assert db.session.execute(count).scalar_one() == added


def test_a_quote_left_open_in_the_header_is_refused_in_one_line(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = write(tmp_path, b'email,"name,regions\na@example.org,A,asie\n')
    result = runner.invoke(args=["subscribers", "import", str(path)])
    assert file_error(result) == f"Error: {path}: line 1: a quote left open in the header line"
    assert readers() == {}


def test_a_file_with_old_mac_line_ends_imports(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        b"email,name,regions\rmac@example.org,Mac,asie\rbroken,Broken,asie\rosx@example.org,,all\r",
    )
    result = runner.invoke(args=["subscribers", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert rejections(result.output) == ["line 3: 'broken' rejected: malformed address"]
    assert sorted(readers()) == ["mac@example.org", "osx@example.org"]
