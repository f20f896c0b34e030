"""The public web copy of a digest, behind the signed 'view in browser' link."""

from __future__ import annotations

from flask import Blueprint, abort, make_response, request
from werkzeug.wrappers import Response

from newsletter.digests.links import READER_PARAM
from newsletter.digests.webcopy import BadLink, web_copy
from newsletter.web.security import FRAMED_EMAIL_POLICY

bp = Blueprint("digests", __name__, url_prefix="/digests")

# The editors' preview frame's policy. Every response's final headers, this page's included
# (an email's HTML, framed by no one), are set in newsletter/web/security.py.
CSP = FRAMED_EMAIL_POLICY


@bp.get("/view/<token>")
def view(token: str) -> Response:
    try:
        html = web_copy(token, request.args.get(READER_PARAM))
    except BadLink:
        abort(404)
    if html is None:
        abort(404)
    # The link holds the reader's unsubscribe token: Referrer-Policy no-referrer keeps it out
    # of other sites' logs (set with the other headers in newsletter/web/security.py).
    return make_response(html)
