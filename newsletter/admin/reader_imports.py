"""Readers imported from a CSV in the console, for admins: upload, follow, read the report.

The upload is checked whole in the request (an unusable file imports nobody and says why at
once); a worker imports the rows (reader_import_runs). The report stays: the counts, every
rejected row with its line and reason, and the same as a formula-safe CSV to download.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask import (
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response
from wtforms import BooleanField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from newsletter.admin.paging import page_number
from newsletter.admin.reader_import_runs import queue_import
from newsletter.admin.reader_import_texts import file_error, rejection_reason
from newsletter.admin.views import admin_required, bp
from newsletter.models import ReaderImport, ReaderImportRejection, db
from newsletter.subscriptions.csvsource import ImportFileError
from newsletter.subscriptions.spreadsheet import safe_cell
from newsletter.web import requests as web_requests

RECENT_IMPORTS = 50
REJECTIONS_PER_PAGE = 1000
MEBIBYTE = 1_048_576
ENCODINGS = [
    SelectChoice("utf-8", _l("UTF-8 (also Excel’s “CSV UTF-8”)")),
    SelectChoice("cp1252", _l("Windows (cp1252): Excel’s plain CSV on Windows")),
    SelectChoice("latin-1", _l("Latin-1 (ISO-8859-1)")),
    SelectChoice("utf-16", _l("UTF-16")),
    SelectChoice("mac-roman", _l("Mac Roman (older Mac tools)")),
]


class ImportForm(FlaskForm):  # type: ignore[misc]
    file = FileField(_l("CSV file"))
    encoding = SelectField(_l("Encoding"), choices=ENCODINGS, default="utf-8")
    consent = BooleanField(
        _l(
            "I assert that every person in this file gave their prior consent"
            " to receive the newsletter"
        ),
        validators=[
            InputRequired(
                _l("Tick the box: without everyone’s prior consent, nothing is imported.")
            )
        ],
    )
    consent_note = TextAreaField(
        _l("Where and how they consented (kept with each reader as the proof)"),
        validators=[
            DataRequired(_l("Say where and how these people consented.")),
            Length(max=500, message=_l("At most 500 characters.")),
        ],
    )


@bp.get("/readers/imports")
@admin_required
def reader_imports() -> str:
    """The upload form and the past imports; reading changes nothing."""
    return _form_page(ImportForm(formdata=None))


def _form_page(form: ImportForm, error: str | None = None) -> str:
    imports = db.session.execute(
        db.select(ReaderImport).order_by(ReaderImport.id.desc()).limit(RECENT_IMPORTS)
    ).scalars()
    return render_template(
        "admin/reader_imports.html",
        form=form,
        error=error,
        imports=list(imports),
        max_size=_size(current_app.config["READER_IMPORT_MAX_BYTES"]),
    )


@bp.post("/readers/imports")
@admin_required
def reader_import_upload() -> Response | tuple[str, int]:
    form = ImportForm()
    if not form.validate_on_submit():
        return _form_page(form), 400
    upload = form.file.data
    if not upload or not upload.filename:
        return _form_page(form, _("Choose the CSV file to import.")), 400
    limit = current_app.config["READER_IMPORT_MAX_BYTES"]
    content = upload.stream.read(limit + 1)
    if len(content) > limit:
        raise RequestEntityTooLarge()
    try:
        queued = queue_import(
            upload.filename,
            content,
            encoding=form.encoding.data,
            consent_note=form.consent_note.data.strip(),
            editor=g.editor,
        )
    except ImportFileError as exc:
        return _form_page(form, _("Nothing imported: %(why)s", why=file_error(str(exc)))), 400
    return redirect(url_for("admin.reader_import", import_id=queued.id), code=303)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> Response | tuple[str, int]:
    """Over the upload limit: the form again, saying the limit; other pages as everywhere."""
    if request.endpoint != "admin.reader_import_upload":
        return web_requests._too_large(error)
    size = _size(current_app.config["READER_IMPORT_MAX_BYTES"])
    message = _(
        "Nothing imported: the file is larger than %(size)s. Split it into several files.",
        size=size,
    )
    return _form_page(ImportForm(formdata=None), message), 413


def _size(limit: int) -> str:
    if limit >= MEBIBYTE:
        return _("%(n)s MB", n=limit // MEBIBYTE)
    return _("%(n)s KB", n=limit // 1024)


@bp.get("/readers/imports/<int:import_id>")
@admin_required
def reader_import(import_id: int) -> str:
    """Where an import stands, then its report: every rejected row, a page at a time."""
    row = db.get_or_404(ReaderImport, import_id)
    page = page_number(request.args.get("page", "1"))
    if page is None:
        abort(404)
    rejections = db.session.execute(
        db.select(ReaderImportRejection)
        .where(ReaderImportRejection.import_id == import_id)
        .order_by(ReaderImportRejection.line)
        .limit(REJECTIONS_PER_PAGE)
        .offset((page - 1) * REJECTIONS_PER_PAGE)
    ).scalars()
    return render_template(
        "admin/reader_import.html",
        row=row,
        rejections=[(r.line, r.email, rejection_reason(r.reason)) for r in rejections],
        page=page,
        pages=max(1, -(-row.rejected // REJECTIONS_PER_PAGE)),
        error=file_error(row.error) if row.error else None,
    )


@bp.get("/readers/imports/<int:import_id>/progress")
@admin_required
def reader_import_progress(import_id: int) -> Response:
    """What the page's script polls until the import ends."""
    row = db.get_or_404(ReaderImport, import_id)
    response = jsonify(
        state=row.state.value,
        ended=row.ended,
        lines_read=row.lines_read,
        lines_total=row.lines_total,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/readers/imports/<int:import_id>/report.csv")
@admin_required
def reader_import_report(import_id: int) -> Response:
    """Every rejected row as CSV; cells a spreadsheet would run as formulas neutralised."""
    row = db.get_or_404(ReaderImport, import_id)
    response = Response(stream_with_context(_report_lines(row)), mimetype="text/csv")
    stem = row.filename.rsplit(".", 1)[0] or "import"
    name = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in stem)
    response.headers["Content-Disposition"] = f'attachment; filename="rapport-{name}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _report_lines(row: ReaderImport) -> Iterator[str]:
    """The rows read in batches (keyset on the line), each batch written as one chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # A byte-order mark: Excel then reads the file as UTF-8.
    writer.writerow(["\ufeff" + _("line"), _("email"), _("reason")])
    after = 0
    while True:
        batch = (
            db.session.execute(
                db.select(ReaderImportRejection)
                .where(
                    ReaderImportRejection.import_id == row.id,
                    ReaderImportRejection.line > after,
                )
                .order_by(ReaderImportRejection.line)
                .limit(REJECTIONS_PER_PAGE)
            )
            .scalars()
            .all()
        )
        for rejection in batch:
            writer.writerow(
                [
                    rejection.line,
                    safe_cell(rejection.email),
                    safe_cell(rejection_reason(rejection.reason)),
                ]
            )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(batch) < REJECTIONS_PER_PAGE:
            return
        after = batch[-1].line
