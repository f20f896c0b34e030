"""The development mailbox's pages: what the service sent, as the reader would see it."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from newsletter.devmail import store

bp = Blueprint("devmail", __name__, url_prefix="/dev/mailbox")


def _path() -> str:
    return str(current_app.config["DEV_MAILBOX_DIR"])


@bp.get("/")
def index() -> str:
    return render_template("web/devmail/index.html", messages=store.list_messages(_path()))


@bp.get("/<key>")
def show(key: str) -> str:
    message = store.get_message(_path(), key)
    if message is None:
        abort(404)
    return render_template("web/devmail/show.html", message=message)


@bp.get("/<key>/html")
def html(key: str) -> Response:
    message = store.get_message(_path(), key)
    if message is None or message.body("html") is None:
        abort(404)
    response = Response(message.body("html"), mimetype="text/html")
    # Shown inside a sandboxed iframe: no script of a message may run on our origin.
    response.headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; img-src * data:; style-src 'unsafe-inline'"
    )
    return response


@bp.get("/<key>/raw")
def raw(key: str) -> str:
    """The message as the server received it: headers unfolded and unencoded as they came."""
    message = store.get_message(_path(), key)
    if message is None:
        abort(404)
    return render_template("web/devmail/raw.html", message=message)


@bp.post("/clear")
def clear() -> BaseResponse:
    store.clear(_path())
    return redirect(url_for("devmail.index"))
