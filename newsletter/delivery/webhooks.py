"""POST /webhooks/bounces: bounce and complaint reports from the relay or the mail provider.

Authenticated by an HMAC-SHA256 of the raw body with BOUNCE_WEBHOOK_SECRET, sent as
`X-Newsletter-Signature: sha256=<hex>`. With no secret configured the endpoint does not exist
(404). CSRF-exempt (no cookie is ever looked at), rate-limited, and never a 500: unreadable
input is logged and answered 400 with a JSON reason; a database outage is a 503 (retry later).
"""

from __future__ import annotations

import hashlib
import hmac
import logging

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, jsonify, request

from newsletter.delivery.bounces import Outcome, apply_events
from newsletter.delivery.bounces_parse import Junk, parse_body
from newsletter.extensions import csrf, limiter
from newsletter.models import db
from newsletter.web.requests import WEBHOOK_MAX_BYTES, InvalidJson, load_json

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

SIGNATURE_HEADER = "X-Newsletter-Signature"
MAX_BODY = WEBHOOK_MAX_BYTES
RATE_LIMIT = "600 per minute"
_IGNORED = {Outcome.DUPLICATE, Outcome.UNKNOWN_RECIPIENT}


def signature(secret: str, body: bytes) -> str:
    """The header value a sender computes: sha256=<hex HMAC of the raw body>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@bp.post("/bounces")
@csrf.exempt
@limiter.limit(RATE_LIMIT)
def receive_bounces() -> tuple[Response, int]:
    secret = current_app.config["BOUNCE_WEBHOOK_SECRET"]
    if not secret:
        abort(404)
    if (request.content_length or 0) > MAX_BODY:
        return _refuse(413, "too-large", f"at most {MAX_BODY} bytes")
    body = request.stream.read(MAX_BODY + 1)  # bounded even without a Content-Length
    if len(body) > MAX_BODY:
        return _refuse(413, "too-large", f"at most {MAX_BODY} bytes")
    given = request.headers.get(SIGNATURE_HEADER, "")
    if not hmac.compare_digest(given.encode(), signature(secret, body).encode()):
        log.warning("bounces.bad_signature ip=%s present=%s", request.remote_addr, bool(given))
        return _refuse(403, "bad-signature", f"{SIGNATURE_HEADER} missing or wrong")
    if _looks_like_json(body, request.mimetype or ""):
        try:
            load_json(body)  # the API's limits: depth, 64-bit numbers, no NUL
        except InvalidJson as exc:
            log.warning("bounces.junk source=webhook reason=%s", exc)
            return _refuse(400, "junk", str(exc))
    try:
        events = parse_body(body, request.mimetype or "")
    except Junk as exc:
        log.warning("bounces.junk source=webhook reason=%s", exc)
        return _refuse(400, "junk", str(exc))
    except Exception as exc:  # noqa: BLE001 - a report we cannot read is the sender's problem
        log.warning("bounces.unreadable source=webhook error=%r", exc)
        return _refuse(400, "junk", "unreadable report")
    try:
        outcomes = apply_events(events, source="webhook")
    except sa.exc.SQLAlchemyError as exc:
        db.session.rollback()
        log.error("bounces.database_error source=webhook error=%s", type(exc).__name__)
        return _refuse(503, "unavailable", "try again later")
    ignored = all(outcome in _IGNORED for outcome in outcomes)
    return jsonify(
        status="ignored" if ignored else "processed",
        events=[outcome.value for outcome in outcomes],
    ), 202 if ignored else 200


def _looks_like_json(body: bytes, mimetype: str) -> bool:
    """What parse_body reads as JSON: by content type, or by its first character."""
    return "json" in mimetype or body.lstrip()[:1] in (b"{", b"[")


def _refuse(status: int, error: str, reason: str) -> tuple[Response, int]:
    return jsonify(error=error, reason=reason), status
