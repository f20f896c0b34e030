"""The special edition's form: make it (now or at a time), preview it, mail a test of it
before it exists, and search the articles it may pin."""

from __future__ import annotations

import secrets
from datetime import date
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from flask import (
    current_app,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from markupsafe import escape
from werkzeug.wrappers import Response
from wtforms.validators import Length

from newsletter import jobs
from newsletter.admin.audit import AuditAction, record
from newsletter.admin.special_form import (
    FIRST_DAY,
    LAST_DAY,
    MAX_EMAIL,
    MAX_TEST_ADDRESSES,
    SpecialForm,
    choice_label,
)
from newsletter.admin.views import bp, login_required
from newsletter.digests.choices import pinnable
from newsletter.digests.compose import DigestComposer
from newsletter.digests.editions import EditionError, create_special, special_draft
from newsletter.digests.preview import site_copy, special_fields
from newsletter.digests.views import CSP
from newsletter.models import REGIONS, db, utcnow

# Articles the search answers with: enough to choose from, few enough to read.
FOUND = 50
MAX_QUERY = 200


@bp.route("/digests/special", methods=["GET", "POST"])
@login_required
def digest_special() -> str | Response | tuple[str, int]:
    form = SpecialForm()
    if not form.is_submitted():
        form.request_key.data = secrets.token_urlsafe(12)
    if form.validate_on_submit():
        try:
            edition = create_special(
                **form.options(),
                created_by=g.editor.email,
                request_key=form.request_key.data or None,
                send_at=form.send_at_utc(),
            )
        except EditionError as exc:
            flash(_("Edition impossible: %(reason)s.", reason=exc), "error")
        else:
            if edition.created:
                record(g.editor, AuditAction.SPECIAL_EDITION_CREATED, edition.digest.edition_key)
                db.session.commit()
            return redirect(url_for("admin.digest_show", digest_id=edition.digest.id))
    return _form_page(form, 200 if not form.is_submitted() else 400)


@bp.post("/digests/special/preview")
@login_required
def digest_special_preview() -> Response:
    """The special edition the form describes, as a reader of the regions chosen would get
    it, for the frame beside the form: nothing is stored, nothing is sent (a POST for the CSRF
    token and the form's fields, not because it changes anything)."""
    form = SpecialForm()
    if not form.validate_on_submit():
        return _frame_note(_("Correct the form: the preview follows what it describes."), 400)
    try:
        composer = DigestComposer.for_digest(special_draft(**form.options()))
    except EditionError:
        return _frame_note(_("This edition cannot be made: see the form."), 400)
    body = composer.body_for(_reader(form), form.preview_language.data or "fr")
    if body is None:
        return _frame_note(_("Nothing new for these regions in this period."), 200)
    return _framed(site_copy(composer, body)[1])


@bp.post("/digests/special/test")
@login_required
def digest_special_test() -> str | tuple[str, int]:
    """Mail the edition the form describes to the editor (and up to 5 addresses typed), as a
    reader of the regions chosen would get it: nothing stored but the audit entry."""
    form = SpecialForm()
    addresses = _test_addresses(form) if form.validate_on_submit() else None
    if addresses is None:
        return _form_page(form, 400)
    try:
        draft = special_draft(**form.options())
    except EditionError as exc:
        flash(_("Edition impossible: %(reason)s.", reason=exc), "error")
        return _form_page(form, 400)
    edition = special_fields(
        regions=draft.region_slugs or [],
        since=draft.window_start,
        until=draft.window_end,
        intro=draft.intro,
        pinned_article_id=draft.pinned_article_id,
    )
    regions, language = list(_reader(form)), form.preview_language.data or "fr"
    for address in addresses:
        jobs.enqueue("digests.send_special_test", address, regions, language, edition)
    detail = f"{', '.join(addresses)} ({', '.join(regions)}, {language}; special)"
    record(g.editor, AuditAction.TEST_SENT, detail[:1000])
    db.session.commit()
    flash(_("Test send to %(addresses)s requested.", addresses=", ".join(addresses)), "success")
    return _form_page(form, 200)


@bp.get("/articles/choices.json")
@login_required
def article_choices() -> Response | tuple[Response, int]:
    """The articles a special edition of ?since=&until= (days, as in the form) may pin,
    whose title holds ?q= (accents and case ignored)."""
    form = SpecialForm(formdata=None)
    try:
        form.since.data = _day(request.args.get("since", ""))
        form.until.data = _day(request.args.get("until", ""))
    except ValueError:
        return jsonify(error=_("since and until are days (YYYY-MM-DD).")), 400
    query = request.args.get("q", "")
    if len(query) > MAX_QUERY or "\x00" in query:
        return jsonify(error=_("The search is %(max)d characters at most.", max=MAX_QUERY)), 400
    try:
        start, end = form.window()
    except (OverflowError, ValueError):
        return jsonify(error=_("since and until are days (YYYY-MM-DD).")), 400
    found = pinnable(start, end, query=query, limit=FOUND) if start < end else []
    return jsonify(articles=[{"id": c.id, "label": choice_label(c)} for c in found])


def _day(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    day = date.fromisoformat(text) if len(text) == 10 else None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(text)
    return day


def _reader(form: SpecialForm) -> tuple[str, ...]:
    """The reader a preview or test is for: regions chosen, else the edition's, else all."""
    chosen = form.reader_regions.data or form.regions.data
    return tuple(chosen or [slug for slug, _fr, _en in REGIONS])


def _test_addresses(form: SpecialForm) -> list[str] | None:
    """The editor's own address, then the ones typed (at most 5); None when one is wrong."""
    typed = [line.strip() for line in (form.test_addresses.data or "").split() if line.strip()]
    if len(typed) > MAX_TEST_ADDRESSES:
        form.test_addresses.errors = [_("%(max)d addresses at most.", max=MAX_TEST_ADDRESSES)]
        return None
    found = [g.editor.email]
    for address in typed:
        try:
            if len(address) > MAX_EMAIL:
                raise EmailNotValidError(address)
            normal = validate_email(address, check_deliverability=False).normalized
        except EmailNotValidError:
            form.test_addresses.errors = [_("invalid address: %(address)s", address=address)]
            return None
        if normal not in found:
            found.append(normal)
    return found


def _form_page(form: SpecialForm, status: int) -> tuple[str, int]:
    if status != 200:
        _drop_overlong(form)
    form.list_articles()
    page = render_template(
        "admin/digest_special.html",
        form=form,
        timezone=_timezone_name(),
        earliest=_earliest(),
    )
    return page, status


def _timezone_name() -> str:
    return str(current_app.config["TIMEZONE"])


def _earliest() -> str:
    """The datetime-local's min: now, on the newsroom's clock."""
    return f"{utcnow().astimezone(ZoneInfo(_timezone_name())):%Y-%m-%dT%H:%M}"


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
