"""The public web copy of a digest, behind the signed 'view in browser' link."""

from __future__ import annotations

from flask import Blueprint, abort, make_response
from werkzeug.wrappers import Response

from newsletter.digests.preview import web_copy

bp = Blueprint("digests", __name__, url_prefix="/digests")

# Our own rendered HTML, still locked down: no script, no plugin, no form, styles inline only.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)


@bp.get("/view/<token>")
def view(token: str) -> Response:
    html = web_copy(token)
    if html is None:
        abort(404)
    response = make_response(html)
    response.headers["Content-Security-Policy"] = CSP
    # The link is a bearer token of sorts: keep it out of other sites' logs.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
