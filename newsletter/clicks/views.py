"""GET /r/<ref>: count the click (or not) and send the reader on to the article at once.

The one GET of the service that writes, and all it writes is an anonymous counter: a link in
an email is followed with a GET. Nothing of the request is stored or logged.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, request
from werkzeug.wrappers import Response

from newsletter.clicks.counting import add_click, counts
from newsletter.clicks.refs import MINTED_PARAM, decode_minted, read_ref
from newsletter.clicks.scanners import is_scanner
from newsletter.models import Article, Digest, db

bp = Blueprint("clicks", __name__)


@bp.get("/r/<ref>")
def follow(ref: str) -> Response:
    read = read_ref(ref)
    if read is None:
        abort(404)
    # The target is the article's stored URL, by id, whatever the request says: no open redirect.
    url = db.session.execute(
        db.select(Article.url).where(Article.id == read.article_id)
    ).scalar_one_or_none()
    if url is None or db.session.get(Digest, read.digest_id) is None:
        abort(404)  # an article or edition no longer stored: no address to send anyone to
    if (
        current_app.config["CLICK_COUNTING"]
        and not is_scanner(request.method, request.user_agent.string)
        and counts(decode_minted(request.args.get(MINTED_PARAM)))
    ):
        add_click(read)
    response = redirect(url, code=302)
    # Each click is its own request: no cache between the reader and the counter.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
