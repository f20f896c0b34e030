"""API routes: digests. Trigger an edition, follow its sending."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, g, jsonify, request, url_for
from werkzeug.wrappers import Response

from newsletter.api import answers, bp
from newsletter.api.answers import described
from newsletter.api.auth import token_required
from newsletter.api.openapi import spec
from newsletter.api.refusals import digest_refused, refusing
from newsletter.api.schemas import DigestIn
from newsletter.delivery.progress import digest_report
from newsletter.digests.editions import (
    Edition,
    EditionError,
    check_send_at,
    create_special,
    create_weekly,
    parse_moment,
)
from newsletter.models import utcnow

TAGS = ["digests"]


@bp.post("/digests")
@token_required
@spec.validate(
    json=DigestIn,
    resp=described(
        body=True,
        HTTP_200=answers.DigestReport,
        HTTP_201=answers.DigestReport,
        HTTP_400=answers.OutOfRange,
        HTTP_422=answers.OutOfRange,
    ),
    before=refusing(digest_refused),
    validation_error_status=400,
    tags=TAGS,
)
def create_digest() -> tuple[Response, int] | tuple[Response, int, dict[str, str]]:
    """Start an edition, special (by default) or this week's weekly.

    201 with the new digest; 200 with the existing one when the edition already exists
    (this week's weekly, or a special with the same request key / Idempotency-Key header).
    A special with `send_at` waits, `planned`, until that time; 422 when it is naive, past or
    more than 366 days ahead.
    """
    wanted: DigestIn = request.context.json  # type: ignore[attr-defined]
    try:
        send_at = _send_at(wanted.send_at)
    except EditionError as exc:
        return jsonify(error="invalid", message=str(exc), errors={"send_at": str(exc)}), 422
    try:
        edition = create_weekly() if wanted.kind == "weekly" else _special(wanted, send_at)
    except EditionError as exc:
        return _error(str(exc)), 400
    except OverflowError:  # a date beyond year 9999 or before year 1 once in UTC
        return _error("since and until must be dates between the years 1 and 9999"), 400
    report = digest_report(edition.digest.id)
    location = {"Location": url_for("api.show_digest", digest_id=edition.digest.id)}
    return jsonify(report), (201 if edition.created else 200), location


def _send_at(text: str | None) -> datetime | None:
    """ISO 8601 with an offset, in the future and not absurdly far; else EditionError."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise EditionError("send_at is not an ISO 8601 date and time") from None
    check_send_at(moment, now=utcnow())
    return moment


def _special(wanted: DigestIn, send_at: datetime | None) -> Edition:
    zone = current_app.config["TIMEZONE"]
    since, until = wanted.since, wanted.until
    return create_special(
        regions=wanted.regions,
        since=parse_moment(since, timezone=zone) if since else None,
        until=parse_moment(until, timezone=zone, end_of_day=True) if until else None,
        intro=wanted.intro,
        pinned_article_id=wanted.pinned_article_id,
        created_by=g.editor.email,
        request_key=wanted.request_key or request.headers.get("Idempotency-Key") or None,
        send_at=send_at,
    )


@bp.get("/digests/<int:digest_id>")
@token_required
@spec.validate(
    resp=described(HTTP_200=answers.DigestReport, HTTP_404=answers.Problem),
    tags=TAGS,
)
def show_digest(digest_id: int) -> tuple[Response, int]:
    """A digest with its window, regions and delivery counts."""
    report = digest_report(digest_id)
    if report is None:
        return _error(f"no digest {digest_id}", "not_found"), 404
    return jsonify(report), 200


def _error(message: str, error: str = "invalid") -> Response:
    return jsonify(error=error, message=message)
