"""POST /api/v1/subscriptions: the site's newsletter block, with the form's protections.

No cookie and no CSRF token: the request must be JSON, which a cross-site HTML form cannot
send, and browsers only let the configured CORS_ORIGINS read the answer.
"""

from __future__ import annotations

from typing import cast

from flask import Flask, jsonify, request
from flask.blueprints import BlueprintSetupState
from flask.wrappers import Response
from flask_babel import gettext
from flask_cors import CORS
from flask_limiter import RequestLimit

from newsletter.api import answers, bp
from newsletter.api.answers import described
from newsletter.api.openapi import spec
from newsletter.api.refusals import refusing, subscription_refused, trap_answer
from newsletter.api.schemas import SubscriptionIn
from newsletter.extensions import limiter
from newsletter.subscriptions import service
from newsletter.subscriptions.abuse import take_mail_slot
from newsletter.subscriptions.blueprint import provenance, speak
from newsletter.subscriptions.forms import check_submission
from newsletter.subscriptions.views import subscribe_ip_limit

PATH = "/subscriptions"


@bp.record_once
def _allow_origins(state: BlueprintSetupState) -> None:
    origins = state.app.config["CORS_ORIGINS"]
    if origins:
        CORS(
            cast(Flask, state.app),  # typed as Flask's sans-IO base; a Flask app at run time
            resources={f"{bp.url_prefix}{PATH}": {"origins": origins}},
            methods=["POST"],
            allow_headers=["Content-Type"],
            supports_credentials=False,
        )


def _too_many(limit: RequestLimit | None = None) -> Response:
    response = jsonify(
        error="too-many-requests",
        message=gettext(
            "We received too many requests from you or for this address. Please wait a "
            "while before trying again; if you already asked for an email, check your inbox."
        ),
    )
    response.status_code = 429
    return response


@bp.post(PATH)
@limiter.shared_limit(subscribe_ip_limit, scope="subscribe", on_breach=_too_many)
@spec.validate(
    json=SubscriptionIn,
    resp=described(
        body=True,
        public=True,
        HTTP_202=answers.Accepted,
        HTTP_400=answers.SubscriptionRefused,
        HTTP_429=answers.Problem,
    ),
    before=refusing(subscription_refused),
    validation_error_status=400,
    security={},
    tags=["subscriptions"],
)
def create_subscription() -> tuple[Response, int] | Response:
    """Subscribe an address; a confirmation email follows.

    202 with the same body whatever the address's state: nothing to enumerate. No token.
    """
    wanted: SubscriptionIn = request.context.json  # type: ignore[attr-defined]
    speak(wanted.language)
    subscription, problems = check_submission(
        email=wanted.email,
        name=wanted.name,
        regions=wanted.regions,
        language=wanted.language,
        honeypot=wanted.website,
        known_regions=[r.slug for r in service.all_regions()],
    )
    if problems.honeypot:
        status, body = trap_answer()
        return jsonify(body), status
    if subscription is None:
        return jsonify(error="invalid", fields=dict(problems.fields)), 400
    # Over the address's cap: the same answer and nothing sent (silent, see abuse.py).
    if take_mail_slot(subscription.email):
        service.subscribe(subscription, provenance("api", subscription.language))
    message = gettext(
        "If this address can receive our newsletter, an email is on its way to it. "
        "Open it and follow the link to finish."
    )
    return jsonify(status="accepted", message=message), 202
