"""Readers imported from a CSV in the console: the command line's importer and report, the
admin's assertion of everyone's prior consent, the report kept and downloadable, malformed
uploads refused whole in French, editors and forged forms refused."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from newsletter.admin.reader_import_runs import run_import
from newsletter.admin.reader_import_texts import is_known_file_error, is_known_reason
from newsletter.models import (
    ConsentEvent,
    ConsentKind,
    ReaderImport,
    ReaderImportState,
    Subscriber,
    SubscriberStatus,
    Suppression,
    SuppressionReason,
    db,
)
from newsletter.models.editor import AuditEntry
from newsletter.subscriptions.addresses import email_hmac
from newsletter.subscriptions.csvsource import ImportFileError, inspect
from newsletter.subscriptions.importer import import_csv
from tests.subscriptions.test_import import CSV as CLI_CSV
from tests.support.roles import ADMIN, EDITOR, logged_in, page_token
from tests.support.smtp import SmtpSink

# The command line's own test file: 3 good rows, 6 rejected for 6 different reasons.
CSV = CLI_CSV.encode()
NOTE = "Inscrits sur le formulaire de l’ancien site, 2025"
PAGE = "/admin/readers/imports"


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink) -> dict[str, Any]:
    return {"SMTP_URL": smtp_sink.url}


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    return logged_in(app, ADMIN, admin=True)


@pytest.fixture
def erased() -> None:
    # An erased reader: the import must not bring them back.
    db.session.add(
        Suppression(email_hmac=email_hmac("gone@example.org"), reason=SuppressionReason.ERASED)
    )
    db.session.commit()


def upload(
    client: FlaskClient,
    content: bytes | None,
    *,
    name: str = "old-tool-export.csv",
    consent: bool = True,
    note: str = NOTE,
    encoding: str = "utf-8",
    token: str | None = None,
) -> Any:
    data: dict[str, Any] = {
        "csrf_token": page_token(client, PAGE) if token is None else token,
        "encoding": encoding,
        "consent_note": note,
    }
    if consent:
        data["consent"] = "y"
    if content is not None:
        data["file"] = FileStorage(io.BytesIO(content), filename=name)
    # Encoded in memory: the test client would spool a large body to a file it never closes.
    body, length, boundary = stream_encode_multipart(data, use_tempfile=False)
    return client.post(
        PAGE,
        input_stream=body,
        content_length=length,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def text(response: Any) -> str:
    """The page as a person reads it: tags dropped, entities decoded, spaces collapsed."""
    body = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(body))


def readers() -> dict[str, Subscriber]:
    db.session.remove()
    return {r.email: r for r in db.session.execute(db.select(Subscriber)).scalars()}


def imports() -> list[ReaderImport]:
    db.session.remove()
    return list(db.session.execute(db.select(ReaderImport)).scalars())


def test_an_admin_imports_a_csv_and_sees_the_counts_and_every_rejected_row_with_its_reason(
    admin: FlaskClient, erased: None, smtp_sink: SmtpSink
) -> None:
    response = upload(admin, CSV)
    assert response.status_code == 303
    report = admin.get(response.headers["Location"])
    assert report.status_code == 200
    page = text(report)
    assert "Import de old-tool-export.csv" in page
    assert "Ajoutés (enregistrés comme confirmés) 3" in page
    assert "Déjà connus, laissés tels quels 0" in page
    assert "Adresses bloquées non réajoutées 1" in page
    assert "Lignes refusées (adresses bloquées comprises) 6" in page
    for row in [
        "5 not-an-address adresse mal formée",
        "6 erin@example.org région inconnue 'atlantide'",
        "7 frank@example.org saut de ligne dans un champ (la ligne s’étend sur les lignes 7-8)",
        "9 alice@example.org doublon de la ligne 2",
        "10 g…@example.org adresse bloquée (effacée, en échec ou plainte) : non réajoutée",
        "11 hank@example.org aucune région",
    ]:
        assert row in page
    # Everyone asserted as consenting: recorded as confirmed, nobody mailed.
    imported = readers()
    assert sorted(imported) == ["alice@example.org", "bob@example.org", "carol@bücher.example"]
    assert {r.status for r in imported.values()} == {SubscriberStatus.CONFIRMED}
    assert imported["alice@example.org"].region_slugs == ["asie", "afrique"]
    events = db.session.execute(db.select(ConsentEvent)).scalars().all()
    assert {e.kind for e in events} == {ConsentKind.IMPORT}
    assert {e.source for e in events} == {"import:old-tool-export.csv"}
    assert {e.detail["note"] for e in events} == {NOTE}
    assert smtp_sink.messages == []


def test_the_same_file_imported_again_adds_no_one_and_says_they_were_already_known(
    admin: FlaskClient, erased: None
) -> None:
    upload(admin, CSV)
    again = admin.get(upload(admin, CSV).headers["Location"])
    page = text(again)
    assert "Ajoutés (enregistrés comme confirmés) 0" in page
    assert "Déjà connus, laissés tels quels 3" in page
    assert "Lignes refusées (adresses bloquées comprises) 6" in page
    assert len(readers()) == 3


def test_without_the_consent_box_nothing_is_imported_and_the_form_says_why(
    admin: FlaskClient,
) -> None:
    response = upload(admin, CSV, consent=False)
    assert response.status_code == 400
    assert "Cochez la case : sans le consentement préalable de chacun, rien n’est importé." in (
        text(response)
    )
    assert readers() == {}
    assert imports() == []


def test_without_the_proof_of_consent_nothing_is_imported(admin: FlaskClient) -> None:
    response = upload(admin, CSV, note="   ")
    assert response.status_code == 400
    assert "Dites où et comment ces personnes ont donné leur consentement." in text(response)
    assert readers() == {}
    assert imports() == []


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (None, "", "Choisissez le fichier CSV à importer."),
        (b"", "vide.csv", "Rien n’a été importé : le fichier est vide."),
        (
            b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
            "photo.csv",
            "Rien n’a été importé : ce n’est pas un fichier CSV (une image PNG). Exportez la liste"
            " en CSV et envoyez ce fichier.",
        ),
        (
            "email,name\nzoé@example.org,Zoé\n".encode("cp1252"),
            "excel.csv",
            "Rien n’a été importé : la ligne 2 n’est pas en UTF-8 valide (octet 0xe9)",
        ),
        (
            b"mail,name\na@example.org,A\n",
            "wrong.csv",
            "Rien n’a été importé : le fichier n’a pas de colonne « email » ;"
            " sa ligne d’en-tête contient 'mail', 'name'.",
        ),
        (
            "email,name\na@example.org,A\n".encode("utf-16"),
            "utf16.csv",
            "Rien n’a été importé : le fichier est en UTF-16",
        ),
        (b"email,name,regions\n", "header-only.csv", "aucune ligne sous sa ligne d’en-tête"),
    ],
    ids=["no-file", "empty", "binary", "wrong-encoding", "no-email-column", "utf16", "no-rows"],
)
def test_a_malformed_upload_is_refused_whole_with_a_french_message(
    admin: FlaskClient, content: bytes | None, name: str, message: str
) -> None:
    response = upload(admin, content, name=name)
    assert response.status_code == 400
    assert message in text(response)
    assert readers() == {}
    assert imports() == []


def test_a_windows_file_imports_once_its_encoding_is_chosen(admin: FlaskClient) -> None:
    content = "email;name;regions\nzoe@example.org;Zoé Lefèvre;asie\n".encode("cp1252")
    response = upload(admin, content, encoding="cp1252", name="excel.csv")
    assert response.status_code == 303
    assert readers()["zoe@example.org"].name == "Zoé Lefèvre"


def test_a_file_larger_than_the_default_request_limit_is_admitted(admin: FlaskClient) -> None:
    # 1.5 MB, over the site's 1 MiB body limit: the notes column is ignored by the importer.
    notes = "x" * 1500
    rows = "".join(f"r{i}@example.org,R{i},asie,fr,{notes}\n" for i in range(1000))
    content = f"email,name,regions,language,notes\n{rows}".encode()
    assert len(content) > 1_048_576
    response = upload(admin, content)
    assert response.status_code == 303
    assert "Ajoutés (enregistrés comme confirmés) 1000" in text(
        admin.get(response.headers["Location"])
    )


class TestALimitOfTenKilobytes:
    @pytest.fixture
    def app_overrides(self, smtp_sink: SmtpSink) -> dict[str, Any]:
        return {"SMTP_URL": smtp_sink.url, "READER_IMPORT_MAX_BYTES": 10_240}

    def test_a_larger_file_gets_a_413_page_that_says_the_limit(self, admin: FlaskClient) -> None:
        rows = "".join(f"r{i}@example.org,R{i},asie,fr\n" for i in range(200_000 // 30))
        response = upload(admin, f"email,name,regions,language\n{rows}".encode())
        assert response.status_code == 413
        assert (
            "Rien n’a été importé : le fichier dépasse 10 Ko. Découpez-le en plusieurs fichiers."
        ) in text(response)
        assert readers() == {}

    def test_a_file_just_over_the_limit_in_a_small_request_is_refused_too(
        self, admin: FlaskClient
    ) -> None:
        content = b"email,name,regions\n" + b"a@example.org,A,asie\n" * 500  # ~10.5 KB
        assert 10_240 < len(content) < 10_240 + 64 * 1024
        response = upload(admin, content)
        assert response.status_code == 413
        assert readers() == {}


def test_the_report_downloads_as_csv_with_formulas_neutralised(
    admin: FlaskClient, erased: None
) -> None:
    content = CSV + b'=HYPERLINK("http://evil.example"),Mallory,asie,fr\n@SUM(A1),X,asie,fr\n'
    location = upload(admin, content).headers["Location"]
    download = admin.get(f"{location}/report.csv")
    assert download.status_code == 200
    assert download.mimetype == "text/csv"
    assert download.headers["Content-Disposition"] == (
        'attachment; filename="rapport-old-tool-export.csv"'
    )
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["ligne", "adresse", "raison"]
    by_line = {row[0]: row[1:] for row in rows[1:]}
    assert sorted(by_line, key=int) == ["5", "6", "7", "9", "10", "11", "12", "13"]
    assert by_line["5"] == ["not-an-address", "adresse mal formée"]
    assert by_line["12"] == ['\'=HYPERLINK("http://evil.example")', "adresse mal formée"]
    assert by_line["13"] == ["'@SUM(A1)", "adresse mal formée"]


def test_past_imports_are_listed_with_who_when_the_file_and_the_counts(
    admin: FlaskClient, erased: None
) -> None:
    upload(admin, CSV)
    upload(admin, b"email,regions\nnew@example.org,asie\n", name="second.csv")
    page = text(admin.get(PAGE))
    assert "Imports précédents" in page
    assert re.search(
        rf"second\.csv {re.escape(ADMIN)} .+? terminé 1 0 0 "
        rf"old-tool-export\.csv {re.escape(ADMIN)} .+? terminé 3 0 6",
        page,
    ), page


def test_the_audit_log_names_the_admin_the_file_and_the_counts(
    admin: FlaskClient, erased: None
) -> None:
    upload(admin, CSV)
    entry = db.session.execute(db.select(AuditEntry)).scalar_one()
    assert entry.action == "readers_imported"
    assert entry.editor_email == ADMIN
    assert entry.detail == (
        "old-tool-export.csv: 3 added, 0 already known, 6 rejected (1 suppressed)"
    )


def test_an_editor_who_is_not_an_admin_gets_403_and_imports_nothing(app: Flask) -> None:
    editor = logged_in(app, EDITOR, admin=False)
    assert editor.get(PAGE).status_code == 403
    token = page_token(editor, "/admin/me")
    assert upload(editor, CSV, token=token).status_code == 403
    assert readers() == {}


def test_an_upload_without_the_csrf_token_is_refused(admin: FlaskClient) -> None:
    response = upload(admin, CSV, token="")
    assert response.status_code == 400
    assert readers() == {}
    assert imports() == []


def test_the_progress_answers_in_json_and_a_redelivered_task_does_nothing(
    admin: FlaskClient, erased: None
) -> None:
    location = upload(admin, CSV).headers["Location"]
    (row,) = imports()
    progress = admin.get(f"{location}/progress").get_json()
    assert progress == {"state": "done", "ended": True, "lines_read": 10, "lines_total": 10}
    assert run_import(row.id) is None
    (row,) = imports()
    assert (row.state, row.added, row.rejected, row.content) == (
        ReaderImportState.DONE,
        3,
        6,
        None,
    )


def test_unknown_imports_and_pages_are_404(admin: FlaskClient) -> None:
    assert admin.get(f"{PAGE}/99").status_code == 404
    assert admin.get(f"{PAGE}/99/report.csv").status_code == 404
    location = upload(admin, CSV).headers["Location"]
    assert admin.get(f"{location}?page=0").status_code == 404
    assert admin.get(f"{location}?page=x").status_code == 404


def test_every_reason_the_importer_gives_has_words_in_the_console(
    app: Flask, erased: None, tmp_path: Any
) -> None:
    rows = (
        CSV.decode()
        + "x@example.org,X,asie,fr,extra\n"
        + "n@example.org,N\x00ul,asie,fr\n"
        + f"{'a' * 250}@example.org,Long,asie,fr\n"
        + f"l@example.org,{'N' * 300},asie,fr\n"
        + "k@example.org,K,asie,xx\n"
        + f"f@example.org,{'y' * (csv.field_size_limit() + 1)},asie,fr\n"
        + '"q@example.org,Q,asie,fr\nr@example.org,R,asie,fr\n'
    )
    path = tmp_path / "all.csv"
    path.write_text(rows)
    report = import_csv(inspect(path), confirmed=True, consent_note="x")
    reasons = {r.reason for r in report.rejected}
    assert len(reasons) >= 12
    assert [r for r in reasons if not is_known_reason(r)] == []

    files = {
        "empty": b"",
        "png": b"\x89PNG\r\n",
        "pdf": b"%PDF-1.4\n",
        "utf16": "email\n".encode("utf-16"),
        "cp1252": "email,name\nzoé@example.org,Zoé\n".encode("cp1252"),
        "nul": b"em\x00ail,name\na,b\n",
        "no-email": b"mail\na\n",
        "twice": b"email,EMAIL\na,b\n",
        "quote": b'"email,name\na,b\n',
        "no-rows": b"email\n",
    }
    errors = []
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ImportFileError) as refused:
            inspect(tmp_path / name)
        errors.append(str(refused.value))
    assert [e for e in errors if not is_known_file_error(e)] == []


def test_the_readers_page_links_to_the_import(admin: FlaskClient) -> None:
    page = admin.get("/admin/readers").get_data(as_text=True)
    assert (
        '<a class="button secondary" href="/admin/readers/imports">Importer un fichier CSV</a>'
        in (page)
    )
