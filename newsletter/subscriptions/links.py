"""Pages reached from signed links in emails. GET shows a button; only POST changes anything."""

from __future__ import annotations

import json
from collections.abc import Mapping

from flask import Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response as BaseResponse

from newsletter.extensions import csrf
from newsletter.models import Subscriber, SubscriberStatus, db
from newsletter.subscriptions import preferences, service, tokens
from newsletter.subscriptions.abuse import take_mail_slot
from newsletter.subscriptions.forms import ButtonForm, check_preferences, region_choices
from newsletter.subscriptions.service import ConfirmOutcome
from newsletter.subscriptions.tokens import ExpiredToken, InvalidToken, Purpose
from newsletter.subscriptions.views import bp, provenance, speak

Page = str | tuple[str, int] | BaseResponse


def _reader(subscriber_id: int) -> Subscriber | None:
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is not None:
        speak(subscriber.language)
    return subscriber


def _message(kind: str, status: int = 200, **context: object) -> tuple[str, int]:
    return render_template("web/message.html", kind=kind, **context), status


# --- confirm -------------------------------------------------------------------------------


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str) -> Page:
    try:
        data = tokens.read(Purpose.CONFIRM, token, max_age=tokens.confirm_max_age())
    except ExpiredToken as expired:
        reader = _reader(expired.subscriber_id)
        if reader is not None and reader.status == SubscriberStatus.CONFIRMED:
            return _message("already-confirmed", manage_url=_manage(reader))
        if not service.can_resend(reader, expired.nonce):
            return _message("invalid-link", 400)
        return render_template("web/confirm.html", form=ButtonForm(), expired=True), 410
    except InvalidToken:
        return _message("invalid-link", 400)
    subscriber = _reader(data.subscriber_id)
    if request.method != "POST":
        if subscriber is not None and subscriber.status == SubscriberStatus.CONFIRMED:
            return _message("already-confirmed", manage_url=_manage(subscriber))
        if not service.can_resend(subscriber, data.nonce):
            return _message("invalid-link", 400)
        return render_template("web/confirm.html", form=ButtonForm(), expired=False)
    outcome = service.confirm(subscriber, data.nonce, provenance("confirm-link", g.get("language")))
    if outcome is ConfirmOutcome.INVALID or subscriber is None:
        return _message("invalid-link", 400)
    kind = "confirmed" if outcome is ConfirmOutcome.CONFIRMED else "already-confirmed"
    return _message(kind, manage_url=_manage(subscriber))


@bp.post("/confirm/<token>/resend")
def resend(token: str) -> Page:
    """Offered on an expired link: a fresh email, under the same per-address cap."""
    try:
        data = tokens.read(Purpose.CONFIRM, token, max_age=tokens.confirm_max_age())
    except ExpiredToken as expired:
        data = tokens.TokenData(expired.subscriber_id, expired.nonce)
    except InvalidToken:
        return _message("invalid-link", 400)
    subscriber = _reader(data.subscriber_id)
    if subscriber is None or not service.can_resend(subscriber, data.nonce):
        return _message("invalid-link", 400)
    if not take_mail_slot(subscriber.email):
        raise TooManyRequests()
    service.resend_confirmation(subscriber)
    return render_template("web/subscribed.html")


def _manage(subscriber: Subscriber) -> str:
    return tokens.reader_links(subscriber.id).manage_url


# --- unsubscribe (RFC 8058) ----------------------------------------------------------------


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str) -> Page:
    """POST is the one-click endpoint: signed URL only, no cookie, no CSRF, no redirect, 200."""
    try:
        data = tokens.read(Purpose.UNSUBSCRIBE, token)
    except (InvalidToken, ExpiredToken):
        return _message("invalid-link", 400)
    subscriber = _reader(data.subscriber_id)
    if request.method != "POST":
        if subscriber is None or subscriber.status == SubscriberStatus.UNSUBSCRIBED:
            return _message("unsubscribed")
        return render_template("web/unsubscribe.html")
    if subscriber is not None:
        one_click = request.form.get("List-Unsubscribe") == "One-Click"
        preferences.unsubscribe(subscriber, provenance("one-click" if one_click else "web"))
    return _message("unsubscribed")


# --- preference centre ---------------------------------------------------------------------


def _manage_reader(token: str) -> Subscriber | None:
    try:
        data = tokens.read(Purpose.MANAGE, token)
    except (InvalidToken, ExpiredToken):
        return None
    return _reader(data.subscriber_id)


@bp.route("/manage/<token>", methods=["GET", "POST"])
def manage(token: str) -> Page:
    subscriber = _manage_reader(token)
    if subscriber is None:
        return _message("invalid-link", 400)
    regions = service.all_regions()
    values: dict[str, object] = {
        "regions": subscriber.region_slugs,
        "language": subscriber.language,
        "paused": subscriber.paused,
    }
    errors: Mapping[str, str] = {}
    if request.method == "POST":
        values = {
            "regions": request.form.getlist("regions"),
            "language": request.form.get("language"),
            "paused": bool(request.form.get("paused")),
        }
        slugs, errors = check_preferences(
            regions=values["regions"],
            language=values["language"],
            known_regions=[r.slug for r in regions],
        )
        if not errors:
            language = str(values["language"])
            preferences.change_preferences(
                subscriber,
                region_slugs=slugs,
                language=language,
                paused=bool(values["paused"]),
                provenance=provenance("preferences", language),
            )
            speak(subscriber.language)
            flash(gettext("Your preferences are saved."), "success")
            return redirect(url_for("subscriptions.manage", token=token), code=303)
    unsubscribe_token = tokens.sign(Purpose.UNSUBSCRIBE, subscriber.id)
    page = render_template(
        "web/manage.html",
        form=ButtonForm(),
        subscriber=subscriber,
        token=token,
        regions=region_choices([(r.slug, r.name(subscriber.language)) for r in regions]),
        values=values,
        errors=errors,
        unsubscribe_url=url_for("subscriptions.unsubscribe", token=unsubscribe_token),
    )
    return page, 400 if errors else 200


@bp.get("/manage/<token>/data.json")
def download(token: str) -> Page:
    subscriber = _manage_reader(token)
    if subscriber is None:
        return _message("invalid-link", 400)
    body = json.dumps(preferences.export_data(subscriber), ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="my-newsletter-data.json"'
    return response


@bp.post("/manage/<token>/erase")
def request_erasure(token: str) -> Page:
    subscriber = _manage_reader(token)
    if subscriber is None:
        return _message("invalid-link", 400)
    if not ButtonForm().validate_on_submit():
        return _message("csrf", 400)
    if not take_mail_slot(subscriber.email):
        raise TooManyRequests()
    preferences.request_erasure(subscriber)
    return _message("erase-mailed")


@bp.route("/erase/<token>", methods=["GET", "POST"])
def erase(token: str) -> Page:
    try:
        data = tokens.read(Purpose.ERASE, token, max_age=tokens.ERASE_MAX_AGE)
    except ExpiredToken:
        return _message("expired-link", 410)
    except InvalidToken:
        return _message("invalid-link", 400)
    subscriber = _reader(data.subscriber_id)
    if subscriber is None:
        return _message("erased")
    if data.nonce != subscriber.token_nonce:
        return _message("invalid-link", 400)
    if request.method != "POST":
        return render_template("web/erase.html", form=ButtonForm())
    preferences.erase(subscriber, provenance("erase-link"))
    return _message("erased")
