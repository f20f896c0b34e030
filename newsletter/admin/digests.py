"""Editors' digest pages: preview what a reader would get, mail a test, start a special edition."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from flask import (
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm
from markupsafe import escape
from werkzeug.wrappers import Response
from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from newsletter import jobs
from newsletter.admin.audit import AuditAction, record
from newsletter.admin.views import bp, login_required
from newsletter.digests.compose import DigestComposer
from newsletter.digests.editions import EditionError, create_special, special_draft
from newsletter.digests.preview import preview, site_copy
from newsletter.digests.views import CSP
from newsletter.models import REGIONS, Article, Digest, db
from newsletter.web.requests import column_max, parse_id

LANGUAGES = [("fr", "Français"), ("en", "English")]
MAX_EMAIL, MAX_INTRO = 254, 10_000
# Dates a window can use: one day later and one time zone away still fit in a datetime.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)
LANGUAGE_CHOICES = [SelectChoice(code, name) for code, name in LANGUAGES]


class RegionsField(SelectMultipleField):  # type: ignore[misc]
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _region_choices() -> list[SelectChoice]:
    return [SelectChoice(slug, name_fr) for slug, name_fr, _ in REGIONS]


def _no_nul(form: FlaskForm, field: Any) -> None:
    if field.data and "\x00" in str(field.data):
        raise ValidationError("caractère NUL refusé.")


def _day_in_range(form: FlaskForm, field: Any) -> None:
    if field.data and not FIRST_DAY <= field.data <= LAST_DAY:
        raise ValidationError(f"entre {FIRST_DAY:%d/%m/%Y} et {LAST_DAY:%d/%m/%Y}.")


class TestSendForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(
        "Adresse",
        validators=[DataRequired(), Length(max=MAX_EMAIL, message="254 caractères au plus.")],
    )
    regions = RegionsField("Régions", validators=[DataRequired()])
    language = RadioField("Langue", choices=LANGUAGE_CHOICES, default="fr")
    digest = HiddenField()


class SpecialForm(FlaskForm):  # type: ignore[misc]
    regions = RegionsField("Régions (aucune cochée : toutes)")
    since = DateField("Depuis le", validators=[Optional(), _day_in_range])
    until = DateField("Jusqu’au (inclus)", validators=[Optional(), _day_in_range])
    intro = TextAreaField(
        "Introduction (texte simple)",
        validators=[
            Optional(),
            Length(max=MAX_INTRO, message=f"{MAX_INTRO} caractères au plus."),
            _no_nul,
        ],
    )
    pinned = IntegerField(
        "Article à la une (id)",
        validators=[
            Optional(),
            NumberRange(1, column_max(Digest.pinned_article_id), "pas un numéro d’article."),
        ],
    )
    # Made when the form is shown: a double submission makes one edition.
    request_key = HiddenField(validators=[Length(max=40)])

    # Checked here too, so that the editor reads why in French, beside the field.
    def validate_until(self, field: DateField) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("la fin de la période précède son début.")

    def validate_pinned(self, field: IntegerField) -> None:
        # Only a number the column can hold is looked up (the range check ran before).
        if field.errors or field.data is None:
            return
        if db.session.get(Article, field.data) is None:
            raise ValidationError(f"aucun article n° {field.data}.")


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
        abort(400, description="digest: un numéro d’édition est attendu.")
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
    form.regions.choices = _region_choices()
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
    form.regions.choices = _region_choices()
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
            flash(f"Adresse trop longue ({MAX_EMAIL} caractères au plus).", "error")
        else:
            flash("Choisissez au moins une région et une adresse.", "error")
        return redirect(target)
    if form.digest.data and digest_id is None:
        flash("Édition inconnue.", "error")
        return redirect(target)
    try:
        address = validate_email(form.email.data, check_deliverability=False).normalized
    except EmailNotValidError:
        flash("Adresse invalide.", "error")
        return redirect(target)
    jobs.enqueue(
        "digests.send_test", address, list(form.regions.data), form.language.data, digest_id
    )
    regions = ", ".join(form.regions.data)
    record(g.editor, AuditAction.TEST_SENT, f"{address} ({regions}, {form.language.data})")
    db.session.commit()
    flash(f"Envoi de test vers {address} demandé.", "success")
    return redirect(target)


@bp.route("/digests/special", methods=["GET", "POST"])
@login_required
def digest_special() -> str | Response | tuple[str, int]:
    form = SpecialForm()
    form.regions.choices = _region_choices()
    if not form.is_submitted():
        form.request_key.data = secrets.token_urlsafe(12)
    if form.validate_on_submit():
        try:
            edition = create_special(
                **_special_options(form),
                created_by=g.editor.email,
                request_key=form.request_key.data or None,
            )
        except EditionError as exc:
            flash(f"Édition impossible : {exc}.", "error")
        else:
            if edition.created:
                record(g.editor, AuditAction.SPECIAL_EDITION_CREATED, edition.digest.edition_key)
                db.session.commit()
            return redirect(url_for("admin.digest_show", digest_id=edition.digest.id))
    context = {"form": form, "languages": LANGUAGES}
    if not form.is_submitted():
        return render_template("admin/digest_special.html", **context)
    _drop_overlong(form)
    return render_template("admin/digest_special.html", **context), 400


@bp.post("/digests/special/preview")
@login_required
def digest_special_preview() -> Response:
    """The special edition the form describes, as a reader of its regions would get it, for
    the frame beside the form: nothing is stored, nothing is sent (a POST for the CSRF token
    and the form's fields, not because it changes anything)."""
    form = SpecialForm()
    form.regions.choices = _region_choices()
    language = request.form.get("preview_language", "fr")
    if not form.validate_on_submit():
        return _frame_note("Corrigez le formulaire : l’aperçu suit ce qu’il décrit.", 400)
    try:
        draft = special_draft(**_special_options(form))
    except EditionError:
        return _frame_note("Cette édition ne peut pas être faite : voyez le formulaire.", 400)
    composer = DigestComposer.for_digest(draft)
    regions = form.regions.data or [slug for slug, _, _ in REGIONS]
    body = composer.body_for(tuple(regions), language if language in {"fr", "en"} else "fr")
    if body is None:
        return _frame_note("Rien de nouveau pour ces régions dans cette période.", 200)
    return _framed(site_copy(composer, body)[1])


def _special_options(form: SpecialForm) -> dict[str, Any]:
    """The form's edition: days are whole days in TIMEZONE, the last one included."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    until = form.until.data + timedelta(days=1) if form.until.data else None
    return {
        "regions": form.regions.data or [],
        "since": _day_start(form.since.data, zone),
        "until": _day_start(until, zone),
        "intro": form.intro.data,
        "pinned_article_id": form.pinned.data,
    }


def _frame_note(text: str, status: int) -> Response:
    page = f"<!doctype html><meta charset=utf-8><p>{escape(text)}</p>"
    return _framed(page, status)


def _framed(html: str, status: int = 200) -> Response:
    response = make_response(html, status)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _drop_overlong(form: FlaskForm) -> None:
    """A value refused for its length or form goes back empty: a page never echoes 1 MB."""
    for field in form:
        limit = next((v.max for v in field.validators if isinstance(v, Length)), 100)
        if field.errors and any(len(str(raw)) > limit for raw in field.raw_data or []):
            field.raw_data, field.data = [], None


def _day_start(day: Any, zone: ZoneInfo) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
