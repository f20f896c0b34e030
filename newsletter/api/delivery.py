"""API routes: follow a digest's sending, pause, resume or cancel it."""

from __future__ import annotations

from flask import jsonify
from werkzeug.wrappers import Response

from newsletter.api import bp
from newsletter.api.auth import token_required
from newsletter.delivery.control import NotAllowed, cancel, pause, resume
from newsletter.delivery.progress import snapshot


def _progress(digest_id: int) -> tuple[Response, int]:
    current = snapshot(digest_id)
    if current is None:
        return jsonify(error="not_found", message=f"no digest {digest_id}"), 404
    return jsonify(current.as_json()), 200


@bp.get("/digests/<int:digest_id>/delivery")
@token_required
def delivery_progress(digest_id: int) -> tuple[Response, int]:
    """Counts by state, counted from the ledger rows."""
    return _progress(digest_id)


@bp.post("/digests/<int:digest_id>/pause")
@token_required
def pause_delivery(digest_id: int) -> tuple[Response, int]:
    return _act(digest_id, lambda: pause(digest_id, reason="paused by an editor (API)"))


@bp.post("/digests/<int:digest_id>/resume")
@token_required
def resume_delivery(digest_id: int) -> tuple[Response, int]:
    return _act(digest_id, lambda: resume(digest_id))


@bp.post("/digests/<int:digest_id>/cancel")
@token_required
def cancel_delivery(digest_id: int) -> tuple[Response, int]:
    return _act(digest_id, lambda: cancel(digest_id))


def _act(digest_id: int, action: object) -> tuple[Response, int]:
    if snapshot(digest_id) is None:
        return jsonify(error="not_found", message=f"no digest {digest_id}"), 404
    try:
        action()  # type: ignore[operator]
    except NotAllowed as exc:
        return jsonify(error="conflict", message=str(exc)), 409
    return _progress(digest_id)
