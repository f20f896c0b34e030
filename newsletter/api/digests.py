"""API routes: digests. Trigger an edition, follow its sending."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, jsonify, request, url_for
from werkzeug.wrappers import Response

from newsletter.api import bp
from newsletter.api.auth import token_required
from newsletter.delivery.progress import digest_report
from newsletter.digests.editions import EditionError, create_special, create_weekly, parse_moment
from newsletter.models import Digest
from newsletter.web.requests import parse_id

FIELDS = {"kind", "regions", "since", "until", "intro", "pinned_article_id", "request_key"}
# An introduction is a paragraph or two above the articles; the regions are seven.
MAX_INTRO, MAX_REGIONS = 10_000, 50


@bp.post("/digests")
@token_required
def create_digest() -> tuple[Response, int] | tuple[Response, int, dict[str, str]]:
    """Start an edition: {"kind": "special"|"weekly", "regions", "since", "until", "intro", ...}.

    201 with the new digest; 200 with the existing one when the edition already exists
    (this week's weekly, or a special with the same request key / Idempotency-Key header).
    """
    data = request.get_json()
    if not isinstance(data, dict):
        return _error("a JSON object is required"), 400
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        return _error(f"unknown field(s): {', '.join(unknown)}"), 400
    if errors := _out_of_range(data):
        field, message = next(iter(errors.items()))
        return jsonify(error="invalid", message=f"{field} {message}", errors=errors), 422
    try:
        edition = _make_edition(data)
    except (EditionError, TypeError, ValueError) as exc:
        return _error(str(exc)), 400
    except OverflowError:  # a date beyond year 9999 or before year 1 once in UTC
        return _error("since and until must be dates between the years 1 and 9999"), 400
    report = digest_report(edition.digest.id)
    location = {"Location": url_for("api.show_digest", digest_id=edition.digest.id)}
    return jsonify(report), (201 if edition.created else 200), location


def _out_of_range(data: dict[str, Any]) -> dict[str, str]:
    """Values of the right type that no column or edition can hold, by field."""
    errors = {}
    pinned = data.get("pinned_article_id")
    if type(pinned) is int and parse_id(pinned, Digest.pinned_article_id) is None:
        errors["pinned_article_id"] = "is not an article id (out of range)"
    intro = data.get("intro")
    if isinstance(intro, str) and len(intro) > MAX_INTRO:
        errors["intro"] = f"must be at most {MAX_INTRO} characters"
    for name in ("since", "until"):
        if isinstance(data.get(name), str) and len(data[name]) > 40:
            errors[name] = "is not a date (YYYY-MM-DD or ISO 8601 date and time)"
    regions = data.get("regions")
    if isinstance(regions, list) and len(regions) > MAX_REGIONS:
        errors["regions"] = f"must name at most {MAX_REGIONS} regions"
    return errors


def _make_edition(data: dict[str, Any]) -> Any:
    kind = data.get("kind", "special")
    if kind == "weekly":
        extra = sorted(set(data) - {"kind"})
        if extra:
            raise EditionError(f"a weekly digest takes no {', '.join(extra)}")
        return create_weekly()
    if kind != "special":
        raise EditionError("kind must be 'special' or 'weekly'")
    zone = current_app.config["TIMEZONE"]
    regions = data.get("regions") or []
    if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
        raise EditionError("regions must be a list of region slugs")
    pinned = data.get("pinned_article_id")
    if pinned is not None and (not isinstance(pinned, int) or isinstance(pinned, bool)):
        raise EditionError("pinned_article_id must be an article id")
    intro = data.get("intro")
    if intro is not None and not isinstance(intro, str):
        raise EditionError("intro must be text")
    since, until = data.get("since"), data.get("until")
    return create_special(
        regions=regions,
        since=parse_moment(str(since), timezone=zone) if since else None,
        until=parse_moment(str(until), timezone=zone, end_of_day=True) if until else None,
        intro=intro,
        pinned_article_id=pinned,
        created_by=g.editor.email,
        request_key=data.get("request_key") or request.headers.get("Idempotency-Key") or None,
    )


@bp.get("/digests/<int:digest_id>")
@token_required
def show_digest(digest_id: int) -> tuple[Response, int]:
    report = digest_report(digest_id)
    if report is None:
        return _error(f"no digest {digest_id}", "not_found"), 404
    return jsonify(report), 200


def _error(message: str, error: str = "invalid") -> Response:
    return jsonify(error=error, message=message)
