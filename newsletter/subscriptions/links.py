"""Pages reached from signed links in emails. GET shows a button; only POST changes anything."""

from __future__ import annotations

import json
from collections.abc import Mapping

from flask import (
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from werkzeug.wrappers import Response as BaseResponse

from newsletter import jobs
from newsletter.extensions import csrf
from newsletter.models import Subscriber, SubscriberStatus, db
from newsletter.subscriptions import leaving, preferences, service, tokens
from newsletter.subscriptions.abuse import take_mail_slot
from newsletter.subscriptions.blueprint import bp, provenance, speak
from newsletter.subscriptions.forms import ButtonForm, check_preferences, region_choices
from newsletter.subscriptions.leaving_views import leave_question
from newsletter.subscriptions.service import ConfirmOutcome
from newsletter.subscriptions.tokens import ExpiredToken, InvalidToken, Purpose

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
        return render_template(
            "web/confirm.html", form=ButtonForm(), expired=False, **_asked(subscriber)
        )
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
    if take_mail_slot(subscriber.email):  # silent over the cap, like the form
        service.resend_confirmation(subscriber)
    return render_template("web/subscribed.html")


def _asked(subscriber: Subscriber | None) -> dict[str, object]:
    """What this link confirms, shown before the button: exactly what was asked for."""
    if subscriber is None:
        return {}
    return {
        "name": subscriber.name,
        "language": subscriber.language,
        "region_names": [r.name(subscriber.language) for r in subscriber.regions],
    }


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
        return render_template("web/unsubscribe.html", manage_url=_instead(subscriber, token))
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    left = subscriber is not None and preferences.unsubscribe(
        subscriber,
        provenance("one-click" if one_click else "web", digest_id=data.digest_id),
    )
    # A mail client's one-click POST shows no one a page: nothing to ask there. Nor is a
    # reader who was already out asked again (each question is one real leaver's).
    if one_click or not left:
        return _message("unsubscribed")
    return leave_question(leaving.mint_survey())


def _instead(subscriber: Subscriber, unsubscribe_token: str) -> str | None:
    """The email's own manage link, twin of its unsubscribe link: not a fresh one, which would
    renew an expired preferences link (and its data export) for whoever holds the old email."""
    if subscriber.status != SubscriberStatus.CONFIRMED:
        return None
    return url_for("subscriptions.manage", token=tokens.twin(unsubscribe_token, Purpose.MANAGE))


# --- preference centre ---------------------------------------------------------------------


def _manage_reader(token: str) -> Subscriber | None:
    """Any genuine manage link, whatever its age: erasure is confirmed from the mailbox anyway."""
    try:
        data = tokens.read(Purpose.MANAGE, token)
    except (InvalidToken, ExpiredToken):
        return None
    return _reader(data.subscriber_id)


def _manage_link(token: str) -> tuple[Subscriber | None, tokens.TokenData]:
    """A manage link younger than MANAGE_LINK_DAYS and its reader; ExpiredToken or InvalidToken."""
    data = tokens.read(Purpose.MANAGE, token, max_age=tokens.manage_max_age())
    return _reader(data.subscriber_id), data


def _refused(error: ExpiredToken | InvalidToken) -> Page:
    """An expired link offers a fresh one by email; this page itself changes nothing."""
    if isinstance(error, ExpiredToken) and _reader(error.subscriber_id) is not None:
        return _manage_link_page(sent=False), 410
    return _message("invalid-link", 400)


def _manage_link_page(*, sent: bool) -> str:
    days = current_app.config["MANAGE_LINK_DAYS"]
    return render_template("web/manage_link.html", form=ButtonForm(), sent=sent, days=days)


@bp.route("/manage/<token>", methods=["GET", "POST"])
def manage(token: str) -> Page:
    try:
        subscriber, link = _manage_link(token)
    except (ExpiredToken, InvalidToken) as error:
        return _refused(error)
    if subscriber is None:
        return _message("invalid-link", 400)
    values = _saved_choices(subscriber)
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
            known_regions=[r.slug for r in service.all_regions()],
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
    page = _manage_page(subscriber, token, link, values=values, errors=errors)
    return page, 400 if errors else 200


def _saved_choices(subscriber: Subscriber) -> dict[str, object]:
    return {
        "regions": subscriber.region_slugs,
        "language": subscriber.language,
        "paused": subscriber.paused,
    }


def _manage_page(
    subscriber: Subscriber,
    token: str,
    link: tokens.TokenData,
    *,
    values: Mapping[str, object] | None = None,
    errors: Mapping[str, str] | None = None,
    export_refused: bool = False,
) -> str:
    regions = service.all_regions()
    # The manage link's twin: the unsubscribe page links back to this link, never a newer one.
    unsubscribe_token = tokens.twin(token, Purpose.UNSUBSCRIBE)
    return render_template(
        "web/manage.html",
        form=ButtonForm(),
        subscriber=subscriber,
        token=token,
        regions=region_choices([(r.slug, r.name(subscriber.language)) for r in regions]),
        values=values or _saved_choices(subscriber),
        errors=errors or {},
        unsubscribe_url=url_for("subscriptions.unsubscribe", token=unsubscribe_token),
        export_allowed=link.younger_than(tokens.EXPORT_MAX_AGE),
        export_refused=export_refused,
    )


@bp.get("/manage/<token>/data.json")
def download(token: str) -> Page:
    try:
        subscriber, link = _manage_link(token)
    except (ExpiredToken, InvalidToken) as error:
        return _refused(error)
    if subscriber is None:
        return _message("invalid-link", 400)
    if not link.younger_than(tokens.EXPORT_MAX_AGE):
        # Everything we hold goes out in this file: only to someone who reads the mailbox today.
        return _manage_page(subscriber, token, link, export_refused=True), 403
    body = json.dumps(preferences.export_data(subscriber), ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="my-newsletter-data.json"'
    return response


@bp.post("/manage/<token>/renew")
def renew_manage_link(token: str) -> Page:
    """A fresh manage link by email, for an expired link or before a data export."""
    subscriber = _manage_reader(token)
    if subscriber is None:
        return _message("invalid-link", 400)
    if not ButtonForm().validate_on_submit():
        return _message("csrf", 400)
    if take_mail_slot(subscriber.email):  # over the cap: the same page, nothing sent
        jobs.enqueue("subscriptions.send_manage_link", subscriber.id)
        db.session.commit()
    return _manage_link_page(sent=True)


@bp.post("/manage/<token>/erase")
def request_erasure(token: str) -> Page:
    subscriber = _manage_reader(token)
    if subscriber is None:
        return _message("invalid-link", 400)
    if not ButtonForm().validate_on_submit():
        return _message("csrf", 400)
    if take_mail_slot(subscriber.email):  # silent over the cap, like the form
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
