"""Public pages of the subscription flow: parse, call a service, render. GET never changes state."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request
from flask_babel import get_locale

from newsletter.extensions import limiter
from newsletter.subscriptions import service
from newsletter.subscriptions.abuse import take_mail_slot
from newsletter.subscriptions.blueprint import bp, provenance, speak
from newsletter.subscriptions.consent import consent_text
from newsletter.subscriptions.forms import ButtonForm, check_submission, region_choices


def subscribe_ip_limit() -> str:
    return str(current_app.config["SUBSCRIBE_IP_LIMIT"])


def _page(status: int = 200, **context: Any) -> tuple[str, int]:
    """The subscription form, with what the reader typed and the problems found in it."""
    regions = [(r.slug, r.name(_locale())) for r in service.all_regions()]
    values = context.pop("values", {"language": _locale(), "regions": []})
    body = render_template(
        "web/subscribe.html",
        form=ButtonForm(),
        regions=region_choices(regions),
        values=values,
        consent=consent_text(),
        **context,
    )
    return body, status


@bp.route("/", methods=["GET", "POST"], endpoint="index")
@bp.route("/subscribe", methods=["GET", "POST"])
@limiter.shared_limit(subscribe_ip_limit, scope="subscribe", methods=["POST"])
def subscribe() -> tuple[str, int] | str:
    """The form; its POST answers the same page whatever state the address is in."""
    if request.method != "POST":
        return _page()
    language = request.form.get("language")
    if language in service.LANGUAGES:
        speak(language)
    values = {
        "email": request.form.get("email", ""),
        "name": request.form.get("name", ""),
        "regions": request.form.getlist("regions"),
        "language": language,
    }
    subscription, problems = check_submission(
        **values,
        honeypot=request.form.get("website", ""),
        known_regions=[r.slug for r in service.all_regions()],
    )
    if subscription is None:
        return _page(400, values=values, errors=problems.fields, rejected=problems.honeypot)
    # Over the address's cap: the same page and nothing sent (silent, see abuse.py).
    if take_mail_slot(subscription.email):
        service.subscribe(subscription, provenance("form", subscription.language))
    return render_template("web/subscribed.html")


def _locale() -> str:
    return str(get_locale() or "fr")
