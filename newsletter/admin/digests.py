"""Editors' digest pages: preview what a reader of an edition would get, and mail a test.

The special edition's form is in special.py (its fields in special_form.py).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from email_validator import EmailNotValidError, validate_email
from flask import abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, HiddenField, RadioField
from wtforms.validators import DataRequired, Length

from newsletter import jobs
from newsletter.admin import special  # noqa: F401 - its routes attach to the console's blueprint
from newsletter.admin.audit import AuditAction, record
from newsletter.admin.special_form import (
    LANGUAGE_CHOICES,
    LANGUAGES,
    MAX_EMAIL,
    RegionsField,
    region_choices,
)
from newsletter.admin.views import bp, login_required
from newsletter.digests.preview import preview, site_copy
from newsletter.digests.views import CSP
from newsletter.models import REGIONS, Digest, db
from newsletter.web.requests import parse_id


class TestSendForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(
        _l("Address"),
        validators=[DataRequired(), Length(max=MAX_EMAIL, message=_l("254 characters at most."))],
    )
    regions = RegionsField(_l("Regions"), validators=[DataRequired()])
    language = RadioField(_l("Language"), choices=LANGUAGE_CHOICES, default="fr")
    digest = HiddenField()


def _preview_args() -> tuple[int | None, list[str], str]:
    known = {slug for slug, _, _ in REGIONS}
    regions = [r for r in request.args.getlist("regions") if r in known]
    language = request.args.get("language", "fr")
    return _digest_arg(), regions, language if language in {"fr", "en"} else "fr"


def _digest_arg() -> int | None:
    """?digest=ID: not a number is a 400; a number no digest can have, a 404."""
    raw = request.args.get("digest", "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()):
        abort(400, description=_("digest: an edition number is expected."))
    digest_id = parse_id(raw, Digest.id)
    if digest_id is None:
        abort(404)
    return digest_id


@bp.get("/digests/preview")
@login_required
def digest_preview() -> str:
    digest_id, regions, language = _preview_args()
    digest = db.session.get(Digest, digest_id) if digest_id is not None else None
    if digest_id is not None and digest is None:
        abort(404)
    body = None
    text = ""
    if regions:
        composer, body = preview(digest_id, regions, language)
        text = site_copy(composer, body)[0] if body else ""
    form = TestSendForm(formdata=None, regions=regions, language=language, digest=digest_id or "")
    form.regions.choices = region_choices()
    return render_template(
        "admin/digest_preview.html",
        form=form,
        choices=[(slug, name) for slug, name, _ in REGIONS],
        languages=LANGUAGES,
        regions=regions,
        language=language,
        digest_id=digest_id,
        digest=digest,
        body=body,
        text=text,
        frame_url=url_for("admin.digest_preview_frame") + "?" + urlencode(_frame_args()),
    )


def _frame_args() -> list[tuple[str, str]]:
    return [(k, v) for k in ("digest", "regions", "language") for v in request.args.getlist(k)]


@bp.get("/digests/preview/frame")
@login_required
def digest_preview_frame() -> Response:
    """The HTML part alone, for the sandboxed iframe of the preview page."""
    digest_id, regions, language = _preview_args()
    try:
        composer, body = preview(digest_id, regions, language)
    except LookupError:
        abort(404)
    if body is None:
        abort(404)
    response = make_response(site_copy(composer, body)[1])
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/digests/test")
@login_required
def digest_test() -> Response:
    form = TestSendForm()
    form.regions.choices = region_choices()
    known = {slug for slug, _, _ in REGIONS}
    digest_id = parse_id(form.digest.data, Digest.id) if form.digest.data else None
    # Back to the preview with what was chosen, never with what was merely typed.
    chosen: dict[str, Any] = {"digest": digest_id} if digest_id else {}
    target = url_for(
        "admin.digest_preview",
        regions=[slug for slug in form.regions.data or [] if slug in known],
        language=form.language.data if form.language.data in {"fr", "en"} else "fr",
        **chosen,
    )
    if not form.validate_on_submit():
        if form.email.errors and form.email.data and len(form.email.data) > MAX_EMAIL:
            flash(_("Address too long (%(max)d characters at most).", max=MAX_EMAIL), "error")
        else:
            flash(_("Choose at least one region and an address."), "error")
        return redirect(target)
    if form.digest.data and digest_id is None:
        flash(_("Unknown edition."), "error")
        return redirect(target)
    try:
        address = validate_email(form.email.data, check_deliverability=False).normalized
    except EmailNotValidError:
        flash(_("Invalid address."), "error")
        return redirect(target)
    jobs.enqueue(
        "digests.send_test", address, list(form.regions.data), form.language.data, digest_id
    )
    regions = ", ".join(form.regions.data)
    record(g.editor, AuditAction.TEST_SENT, f"{address} ({regions}, {form.language.data})")
    db.session.commit()
    flash(_("Test send to %(address)s requested.", address=address), "success")
    return redirect(target)
