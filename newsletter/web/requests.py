"""What every request must respect before a view sees it: body size, JSON shape, id range.

One place for the limits, so no view has to remember them: a body over MAX_REQUEST_BYTES is a
413, JSON that is unreadable, too deep or carries numbers no column can hold is a 400, an id
in a URL beyond the id columns' range is a 404, a NUL in the query string is a 400. The API
and the webhook answer these in JSON; the pages answer with a plain page.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, jsonify, render_template, request
from flask import Request as FlaskRequest
from flask import json as flask_json
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter, Map, ValidationError
from werkzeug.wrappers import Response

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
# The range of an Integer column on every backend (PostgreSQL's integer): every id in a URL.
ID_MAX = 2**31 - 1
MAX_JSON_DEPTH = 20
# Room for the fields that travel with an uploaded file in a multipart form.
FORM_OVERHEAD = 64 * 1024
# The bounce webhook: a DSN carries at most the original message (ours are ~20 KB).
WEBHOOK_MAX_BYTES = 2 * 1024 * 1024
# Paths whose errors are answered in JSON: their callers are programs, not people.
JSON_PREFIXES = ("/api/", "/webhooks/")
_UNSAFE_TEXT = re.compile("[\x00\ud800-\udfff]")


class InvalidJson(ValueError):
    """Readable JSON that breaks a limit, or unreadable JSON; the message says which."""


class JsonProblem(HTTPException):
    """An HTTP error answered as {"error": ..., "message": ...} wherever it is raised."""

    def __init__(self, code: int, error: str, message: str) -> None:
        super().__init__(description=message)
        self.code = code
        self.error = error


# --- JSON ---------------------------------------------------------------------------------


def load_json(data: str | bytes) -> Any:
    """json.loads within limits: depth, 64-bit integers, finite numbers, text a database keeps.

    Raises InvalidJson (a ValueError) with a message fit to show the sender.
    """
    try:
        value = json.loads(
            data,
            parse_int=_int64,
            parse_float=_finite_float,
            parse_constant=_no_constant,
        )
    except RecursionError:
        raise InvalidJson(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    except InvalidJson:
        raise
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise InvalidJson(f"not valid JSON: {exc.msg} at {where}") from None
    except ValueError:  # bytes that are not UTF-8/16/32
        raise InvalidJson("not valid JSON: the body is not UTF-8 text") from None
    _check_tree(value)
    return value


def _int64(text: str) -> int:
    # Checked on the digits, before int(): a 100,000-digit number costs nothing to refuse.
    digits = text.lstrip("-").lstrip("0")
    number = int(text) if len(digits) <= 19 else INT64_MAX + 1
    if not INT64_MIN <= number <= INT64_MAX:
        raise InvalidJson("an integer is outside the signed 64-bit range")
    return number


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise InvalidJson("a number is too large to be represented")
    return number


def _no_constant(text: str) -> float:
    raise InvalidJson(f"{text} is not a JSON number")


def _check_tree(value: Any) -> None:
    """Depth, and no NUL or lone surrogate in any key or string: no database stores those."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if _UNSAFE_TEXT.search(node):
                raise InvalidJson("text must not contain NUL characters or lone surrogates")
            continue
        if not isinstance(node, dict | list):
            continue
        if depth + 1 > MAX_JSON_DEPTH:
            raise InvalidJson(f"nested deeper than {MAX_JSON_DEPTH} levels")
        items = [*node.keys(), *node.values()] if isinstance(node, dict) else node
        stack.extend((item, depth + 1) for item in items)


class _StrictJson:
    """What Request.get_json() parses with: our loader, Flask's dumps."""

    loads = staticmethod(load_json)
    dumps = staticmethod(flask_json.dumps)


class Request(FlaskRequest):
    """Flask's request with the JSON limits, and per-endpoint body size limits."""

    @property  # type: ignore[override]
    def json_module(self) -> Any:
        return _StrictJson

    @json_module.setter
    def json_module(self, value: Any) -> None:
        """Flask sets app.json here for every request: request bodies keep our loader."""

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is not None:
            return self._max_content_length
        limits: Mapping[str, int] = current_app.extensions.get("body_limits", {})
        return limits.get(self.endpoint or "", current_app.config["MAX_CONTENT_LENGTH"])

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if e is None:
            message = "send the body as JSON (Content-Type: application/json)"
            raise JsonProblem(415, "unsupported-media-type", message)
        message = str(e) if isinstance(e, InvalidJson) else "not valid JSON"
        raise JsonProblem(400, "invalid-json", message)


# --- ids in URLs --------------------------------------------------------------------------


class IdConverter(IntegerConverter):
    """`<int:...>` bounded by the id columns' range: beyond it no row can exist (404), and the
    database would fail instead of answering (SQLite overflows past 64 bits; PostgreSQL
    refuses `id = 2147483648::INTEGER`). A BigInteger id would say `<int(max=...):id>`."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = ID_MAX,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, ID_MAX if max is None else max, signed)

    def to_python(self, value: str) -> Any:
        if len(value.lstrip("-").lstrip("0")) > 19:
            raise ValidationError()
        return super().to_python(value)


def column_max(column: Any) -> int:
    """The largest integer a column holds on every backend (Integer is 32-bit on PostgreSQL)."""
    kind = column.type
    if isinstance(kind, sa.SmallInteger):
        return 2**15 - 1
    if isinstance(kind, sa.BigInteger):
        return INT64_MAX
    return ID_MAX


def parse_id(raw: object, column: Any) -> int | None:
    """An id from JSON or a query string, or None when it is not one the column can hold."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str):
        text = raw.strip()
        if not (text.isascii() and text.isdigit() and len(text.lstrip("0")) <= 19):
            return None
        raw = int(text)
    if not isinstance(raw, int) or not 1 <= raw <= column_max(column):
        return None
    return raw


# --- installing it ------------------------------------------------------------------------


def guard_requests(app: Flask) -> None:
    """Before any blueprint: the int converter applies to the rules made after it."""
    app.request_class = Request
    app.url_map.converters["int"] = IdConverter
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_REQUEST_BYTES"]
    app.extensions["body_limits"] = _larger_bodies(app)
    app.before_request(_refuse_oversized_or_nul)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(HTTPException, _json_errors_for_programs)


def _larger_bodies(app: Flask) -> dict[str, int]:
    """The endpoints allowed more than MAX_REQUEST_BYTES, each still bounded."""
    return {
        # A saved article page, as large as a fetched one may be.
        "admin.import_article": app.config["FEED_MAX_BYTES"] + FORM_OVERHEAD,
        # An admin's CSV of readers to import.
        "admin.reader_import_upload": app.config["READER_IMPORT_MAX_BYTES"] + FORM_OVERHEAD,
        # A raw DSN carries the original message.
        "webhooks.receive_bounces": WEBHOOK_MAX_BYTES,
    }


def _refuse_oversized_or_nul() -> None:
    """Checked up front, so a body no view reads is refused the same way."""
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()
    if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
        if _wants_json():
            raise JsonProblem(400, "bad-request", "the query string must not contain NUL")
        raise BadQuery()


class BadQuery(HTTPException):
    code = 400
    description = "The query string must not contain NUL characters."


def _wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES)


def _too_large(error: RequestEntityTooLarge) -> Response | tuple[str, int]:
    limit = request.max_content_length
    message = f"the request body is larger than {limit} bytes" if limit else "too large"
    if _wants_json():
        return _json(413, "too-large", message)
    return render_template("web/message.html", kind="too-large"), 413


def _json_errors_for_programs(error: HTTPException) -> Response | HTTPException:
    if isinstance(error, JsonProblem):
        return _json(error.code or 400, error.error, error.description or "")
    # Not ours to reword: pages, and errors that carry their own answer (a rate limit's).
    if not _wants_json() or error.code is None or error.response is not None:
        return error
    slug = re.sub(r"[^a-z]+", "-", error.name.lower()).strip("-")
    return _json(error.code, slug, error.description or error.name)


def _json(status: int, error: str, message: str) -> Response:
    response = jsonify(error=error, message=message)
    response.status_code = status
    return response
