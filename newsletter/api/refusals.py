"""A request the schemas refused, answered as each resource always has (its clients rely on it).

The articles and feeds name every field with its messages (422); a digest says what is wrong in
one sentence (400), or names the field whose value is out of range (422); a subscription
speaks the reader's language, in the words of the form's own checks (400); settling uncertain
deliveries shows the expected shape (400).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, jsonify, request
from flask_babel import gettext
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from newsletter.api.schemas import MAX_INTRO, MAX_REGIONS, OURS
from newsletter.ingest.payload import MAX_LABEL_LENGTH, MAX_LABELS
from newsletter.subscriptions import service
from newsletter.subscriptions.blueprint import speak
from newsletter.subscriptions.forms import check_submission

Answer = tuple[int, dict[str, Any]]
TOO_LONG = {"string_too_long", "too_long"}
LISTS = {"regions", "tags"}


def refusing(answer: Callable[[list[ErrorDetails]], Answer]) -> Callable[..., None]:
    """A spectree `before` hook: a refused request ends with `answer`'s status and body."""

    def before(_req: Any, _resp: Any, error: Exception | None, *_: Any) -> None:
        if isinstance(error, ValidationError):
            status, body = answer(error.errors())
            response = jsonify(body)
            response.status_code = status
            abort(response)

    return before


def _field(error: ErrorDetails) -> str | None:
    """The top-level field an error is about; None for the body itself (not an object)."""
    return str(error["loc"][0]) if error["loc"] else None


def _ours(error: ErrorDetails) -> list[str]:
    return list((error.get("ctx") or {}).get("messages", [error["msg"]]))


# --- articles and feeds: 422, {"errors": {field: [messages]}} -----------------------------


def _article_messages(field: str, error: ErrorDetails) -> list[str]:
    kind = error["type"]
    if kind == OURS:
        return _ours(error)
    if kind == "missing" or kind == "string_too_short":
        return ["required"]
    if kind == "extra_forbidden":
        return ["unknown field"]
    if field in LISTS:
        if kind in TOO_LONG:
            return [f"at most {MAX_LABELS} of at most {MAX_LABEL_LENGTH} characters each"]
        return ["must be a list of strings"]
    if kind in TOO_LONG:
        return [f"at most {(error.get('ctx') or {}).get('max_length')} characters"]
    return ["must be a string"]


def field_by_field(errors: list[ErrorDetails]) -> Answer:
    found: dict[str, list[str]] = {}
    for error in errors:
        field = _field(error)
        if field is None:
            found.setdefault("body", []).append("expected a JSON object")
            continue
        messages = found.setdefault(field, [])
        messages += [m for m in _article_messages(field, error) if m not in messages]
    return 422, {"error": "invalid", "errors": found}


def feed_refused(errors: list[ErrorDetails]) -> Answer:
    """A missing, empty or non-text URL is `required`, as before the schema."""
    return field_by_field([e for e in errors if _field(e) == "url"] or [_missing("url")])


def _missing(field: str) -> ErrorDetails:
    return {"type": "missing", "loc": (field,), "msg": "required", "input": None}


# --- digests: 400 with a sentence, or 422 naming the field out of range -------------------

OUT_OF_RANGE = {
    "pinned_article_id": "is not an article id (out of range)",
    "intro": f"must be at most {MAX_INTRO} characters",
    "since": "is not a date (YYYY-MM-DD or ISO 8601 date and time)",
    "until": "is not a date (YYYY-MM-DD or ISO 8601 date and time)",
    "send_at": "is not an ISO 8601 date and time with a UTC offset",
    "regions": f"must name at most {MAX_REGIONS} regions",
}
WRONG_TYPE = {
    "kind": "kind must be 'special' or 'weekly'",
    "regions": "regions must be a list of region slugs",
    "pinned_article_id": "pinned_article_id must be an article id",
    "intro": "intro must be text",
    "since": "since must be a date as text (YYYY-MM-DD or ISO 8601 date and time)",
    "until": "until must be a date as text (YYYY-MM-DD or ISO 8601 date and time)",
    "send_at": "send_at must be an ISO 8601 date and time with a UTC offset, as text",
    "request_key": "request_key must be text",
}
RANGE_ERRORS = TOO_LONG | {"greater_than_equal", "less_than_equal"}


def digest_refused(errors: list[ErrorDetails]) -> Answer:
    """In the order the checks always ran: the body's shape, unknown fields, ranges, types."""
    if any(_field(e) is None and e["type"] != OURS for e in errors):
        return _sentence("a JSON object is required")
    unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden")
    if unknown:
        return _sentence(f"unknown field(s): {', '.join(unknown)}")
    ranges = {
        field: OUT_OF_RANGE[field]
        for e in errors
        if e["type"] in RANGE_ERRORS and (field := str(_field(e))) in OUT_OF_RANGE
    }
    if ranges:
        field, message = next(iter(ranges.items()))
        return 422, {"error": "invalid", "message": f"{field} {message}", "errors": ranges}
    first = errors[0]
    if first["type"] == OURS:
        return _sentence("; ".join(_ours(first)))
    return _sentence(WRONG_TYPE.get(str(_field(first)), "invalid request"))


def _sentence(message: str) -> Answer:
    return 400, {"error": "invalid", "message": message}


def settle_refused(_errors: list[ErrorDetails]) -> Answer:
    return _sentence('expected {"message_ids": ["<id@domain>", ...]}')


# --- subscriptions: 400, the form's words in the reader's language ------------------------


def subscription_refused(errors: list[ErrorDetails]) -> Answer:
    """The schema says the shape is wrong; the form's checks say how, as to a reader."""
    data = request.get_json()
    if not isinstance(data, dict):
        return 400, {"error": "bad-request", "message": "send a JSON object"}
    if data.get("language") in service.LANGUAGES:
        speak(data["language"])
    _, problems = check_submission(
        email=data.get("email", ""),
        name=data.get("name"),
        regions=data.get("regions", []),
        language=data.get("language", "fr"),
        honeypot=data.get("website", ""),
        known_regions=[r.slug for r in service.all_regions()],
    )
    if problems.honeypot:
        return trap_answer()
    # What only the schema refuses (a trap filled with a number): the field, without words.
    fields = dict(problems.fields) or {str(_field(e)): "invalid" for e in errors}
    return 400, {"error": "invalid", "fields": fields}


def trap_answer() -> Answer:
    """The honeypot field filled in: a robot, told nothing it could learn from."""
    message = gettext("Your subscription could not be accepted. Please try again.")
    return 400, {"error": "rejected", "message": message}
