"""Readers in the console, for admins: find them, read a reader's record, unsubscribe, erase,
lift a suppression, and export the list as CSV.

The changes go through the same services as the reader's own pages and the command line; each
is written to the audit log after the service's own commit.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from newsletter.admin.audit import AuditAction, record
from newsletter.admin.labels import REGION_NAMES, region_name
from newsletter.admin.readers_search import (
    LANGUAGE_LABELS,
    STATUS_LABELS,
    find_readers,
    read_filters,
)
from newsletter.admin.views import admin_required, bp
from newsletter.models import (
    ConsentEvent,
    ConsentKind,
    Delivery,
    DeliveryState,
    Digest,
    Subscriber,
    SubscriberStatus,
    db,
)
from newsletter.subscriptions import preferences
from newsletter.subscriptions.export import export_readers
from newsletter.subscriptions.service import (
    BLOCKING_SUPPRESSIONS,
    Provenance,
    is_suppressed,
    lift_suppression,
)

CONSENT_LABELS = {
    ConsentKind.SUBSCRIBE: _l("subscription"),
    ConsentKind.CONFIRM: _l("confirmation"),
    ConsentKind.CHANGE: _l("choices changed"),
    ConsentKind.PAUSE: _l("pause"),
    ConsentKind.RESUME: _l("resumption"),
    ConsentKind.UNSUBSCRIBE: _l("unsubscription"),
    ConsentKind.ERASE: _l("erasure"),
    ConsentKind.IMPORT: _l("import"),
    ConsentKind.BOUNCE: _l("bouncing address"),
    ConsentKind.COMPLAINT: _l("spam complaint"),
}
DELIVERY_LABELS = {
    DeliveryState.PENDING: _l("waiting"),
    DeliveryState.SENDING: _l("sending"),
    DeliveryState.SENT: _l("sent"),
    DeliveryState.DEFERRED: _l("deferred"),
    DeliveryState.FAILED: _l("failed"),
    DeliveryState.SKIPPED: _l("skipped"),
    DeliveryState.UNCERTAIN: _l("uncertain"),
    DeliveryState.EXPIRED: _l("expired"),
    DeliveryState.CANCELLED: _l("cancelled"),
}
LAST_DELIVERIES = 20
EXPORT_CHUNK = 64 * 1024
GONE = _l("This reader no longer exists.")


class ActionForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token: the button is the decision."""


@bp.app_template_filter("reader_status")
def reader_status(status: SubscriberStatus | str) -> str:
    return str(STATUS_LABELS.get(SubscriberStatus(status), status))


@bp.app_template_filter("reader_regions")
def reader_regions(slugs: list[str]) -> str:
    """A reader's regions by name in menu order (not labels.region_names: none is none here)."""
    return ", ".join(region_name(slug) for slug in slugs) or _("none")


@bp.get("/readers")
@admin_required
def readers() -> str:
    read = read_filters(request.args)
    return render_template(
        "admin/readers.html",
        found=find_readers(read.filters, read.page),
        filters=read.filters,
        args=read.filters.query_args(),
        notices=read.notices,
        statuses=STATUS_LABELS,
        regions={slug: region_name(slug) for slug in REGION_NAMES},
        languages=LANGUAGE_LABELS,
    )


@bp.get("/readers/export.csv")
@admin_required
def readers_export() -> Response:
    status = read_filters(request.args).filters.status
    spool = _spooled_export((status,) if status else ())
    suffix = f"-{status.value}" if status else ""
    # The file's name and its columns (subscriptions/export.py) are a machine format: the same
    # whatever the console's language.
    response = Response(_chunks(spool), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="lecteurs{suffix}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _spooled_export(statuses: tuple[SubscriberStatus, ...]) -> IO[str]:
    """Written to a spooled file (on disk past 8 MB), then streamed: a million readers never
    sit in memory, and the export's query ends before the first byte leaves."""
    # Not a `with`: the response closes it once sent (_chunks).
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024, mode="w+", newline="")  # noqa: SIM115
    try:
        export_readers(spool, statuses=statuses)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def _chunks(spool: IO[str]) -> Iterator[bytes]:
    try:
        while chunk := spool.read(EXPORT_CHUNK):
            yield chunk.encode("utf-8")
    finally:
        spool.close()


@bp.get("/readers/<int:reader_id>")
@admin_required
def reader_show(reader_id: int) -> str:
    reader = _reader(reader_id)
    return render_template(
        "admin/readers_show.html",
        reader=reader,
        events=_consent_history(reader.id),
        deliveries=_last_deliveries(reader.id),
        consent_labels=CONSENT_LABELS,
        delivery_labels=DELIVERY_LABELS,
        languages=LANGUAGE_LABELS,
        suppressed=is_suppressed(reader.email, reasons=BLOCKING_SUPPRESSIONS),
        subscribed=reader.status in (SubscriberStatus.PENDING, SubscriberStatus.CONFIRMED),
        form=ActionForm(),
    )


def _consent_history(reader_id: int) -> list[ConsentEvent]:
    query = (
        db.select(ConsentEvent)
        .where(ConsentEvent.subscriber_id == reader_id)
        .order_by(ConsentEvent.id.desc())
    )
    return list(db.session.execute(query).scalars())


def _last_deliveries(reader_id: int) -> list[tuple[Delivery, Digest | None]]:
    query = (
        db.select(Delivery, Digest)
        .outerjoin(Digest, Digest.id == Delivery.digest_id)
        .where(Delivery.subscriber_id == reader_id)
        .order_by(Delivery.id.desc())
        .limit(LAST_DELIVERIES)
    )
    return [(delivery, digest) for delivery, digest in db.session.execute(query)]


@bp.post("/readers/<int:reader_id>/unsubscribe")
@admin_required
def reader_unsubscribe(reader_id: int) -> Response:
    reader = _posted_reader(reader_id)
    if reader.status not in (SubscriberStatus.PENDING, SubscriberStatus.CONFIRMED):
        flash(
            _(
                "This reader is already %(status)s: nothing to do.",
                status=reader_status(reader.status),
            ),
            "error",
        )
        return _back(reader_id)
    preferences.unsubscribe(reader, _provenance())
    _audit(AuditAction.READER_UNSUBSCRIBED, reader_id)
    flash(
        _("Reader unsubscribed: %(email)s will no longer get the letter.", email=reader.email),
        "success",
    )
    return _back(reader_id)


@bp.get("/readers/<int:reader_id>/erase")
@admin_required
def reader_erase_confirm(reader_id: int) -> str:
    """The confirmation step: an erasure cannot be undone."""
    return render_template("admin/readers_erase.html", reader=_reader(reader_id), form=ActionForm())


@bp.post("/readers/<int:reader_id>/erase")
@admin_required
def reader_erase(reader_id: int) -> Response:
    reader = _posted_reader(reader_id)
    email = reader.email
    preferences.erase(reader, _provenance())
    # The log keeps the id, not the address: the erasure removes the person everywhere.
    _audit(AuditAction.READER_ERASED, reader_id)
    flash(
        _("Reader erased: %(email)s. Their address can no longer be imported.", email=email),
        "success",
    )
    return redirect(url_for("admin.readers"), code=303)


@bp.post("/readers/<int:reader_id>/unsuppress")
@admin_required
def reader_unsuppress(reader_id: int) -> Response:
    reader = _posted_reader(reader_id)
    if not lift_suppression(reader.email):
        flash(_("This address is not blocked: nothing to lift."), "error")
        return _back(reader_id)
    _audit(AuditAction.SUPPRESSION_LIFTED, reader_id)
    flash(
        _(
            "Block lifted: %(email)s may subscribe again (with a confirmation by email).",
            email=reader.email,
        ),
        "success",
    )
    return _back(reader_id)


def _provenance() -> Provenance:
    """The consent record names the admin who acted, from the console."""
    return Provenance(
        ip=request.remote_addr,
        user_agent=request.user_agent.string,
        source=f"console:{g.editor.email}",
        detail={"editor_id": g.editor.id},
    )


def _audit(action: AuditAction, reader_id: int) -> None:
    # The service committed its change: the log's entry follows in a commit of its own.
    # Details are stored words, in the newsroom's French whatever the console's language.
    record(g.editor, action, f"lecteur {reader_id}")
    db.session.commit()


def _reader(reader_id: int) -> Subscriber:
    reader = db.get_or_404(Subscriber, reader_id)
    return reader


def _posted_reader(reader_id: int) -> Subscriber:
    # CSRFProtect checked the token before the view; the form checks it again for clarity.
    if not ActionForm().validate_on_submit():
        abort(400)
    reader = db.session.get(Subscriber, reader_id)
    if reader is None:
        flash(str(GONE), "error")
        abort(redirect(url_for("admin.readers"), code=303))
    return reader


def _back(reader_id: int) -> Response:
    return redirect(url_for("admin.reader_show", reader_id=reader_id), code=303)
