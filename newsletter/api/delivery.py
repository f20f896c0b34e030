"""API routes: follow a digest's sending, pause, resume or cancel it; its uncertain rows."""

from __future__ import annotations

from flask import jsonify, request
from werkzeug.wrappers import Response

from newsletter.api import answers, bp
from newsletter.api.answers import described
from newsletter.api.auth import token_required
from newsletter.api.openapi import spec
from newsletter.api.refusals import refusing, settle_refused
from newsletter.api.schemas import SettleIn
from newsletter.delivery.control import NotAllowed, cancel, pause, resume
from newsletter.delivery.progress import snapshot
from newsletter.delivery.uncertain import send_again, settle_from_log, uncertain_rows
from newsletter.models import Digest, db

TAGS = ["delivery"]
PROGRESS = described(HTTP_200=answers.Progress, HTTP_404=answers.Problem)
# An action the digest's state forbids (resuming a cancelled digest): 409.
ACTED = described(HTTP_200=answers.Progress, HTTP_404=answers.Problem, HTTP_409=answers.Problem)
UNCERTAIN = described(HTTP_200=answers.Uncertain, HTTP_404=answers.Problem)


def _no_digest(digest_id: int) -> tuple[Response, int]:
    return jsonify(error="not_found", message=f"no digest {digest_id}"), 404


def _not_found(digest_id: int) -> tuple[Response, int] | None:
    """The 404 answer if there is no such digest, else None."""
    return _no_digest(digest_id) if db.session.get(Digest, digest_id) is None else None


def _progress(digest_id: int) -> tuple[Response, int]:
    current = snapshot(digest_id)
    if current is None:
        return _no_digest(digest_id)
    return jsonify(current.as_json()), 200


@bp.get("/digests/<int:digest_id>/delivery")
@token_required
@spec.validate(resp=PROGRESS, tags=TAGS)
def delivery_progress(digest_id: int) -> tuple[Response, int]:
    """Counts by state, counted from the ledger rows."""
    return _progress(digest_id)


@bp.post("/digests/<int:digest_id>/pause")
@token_required
@spec.validate(resp=ACTED, tags=TAGS)
def pause_delivery(digest_id: int) -> tuple[Response, int]:
    """Stop sending after the messages in hand; `resume` goes on where it stopped."""
    return _act(digest_id, lambda: pause(digest_id, reason="paused by an editor (API)"))


@bp.post("/digests/<int:digest_id>/resume")
@token_required
@spec.validate(resp=ACTED, tags=TAGS)
def resume_delivery(digest_id: int) -> tuple[Response, int]:
    """Send the rest of a paused digest."""
    return _act(digest_id, lambda: resume(digest_id))


@bp.post("/digests/<int:digest_id>/cancel")
@token_required
@spec.validate(resp=ACTED, tags=TAGS)
def cancel_delivery(digest_id: int) -> tuple[Response, int]:
    """Send no more of this digest: its pending deliveries end cancelled."""
    return _act(digest_id, lambda: cancel(digest_id))


def _act(digest_id: int, action: object) -> tuple[Response, int]:
    if missing := _not_found(digest_id):
        return missing
    try:
        action()  # type: ignore[operator]
    except NotAllowed as exc:
        return jsonify(error="conflict", message=str(exc)), 409
    return _progress(digest_id)


@bp.get("/digests/<int:digest_id>/uncertain")
@token_required
@spec.validate(resp=UNCERTAIN, tags=TAGS)
def list_uncertain(digest_id: int) -> tuple[Response, int]:
    """Deliveries handed to the relay whose reply was lost: nobody can know they arrived."""
    return _not_found(digest_id) or _uncertain(digest_id, settled=None)


@bp.post("/digests/<int:digest_id>/uncertain/settle")
@token_required
@spec.validate(
    json=SettleIn,
    resp=described(body=True, HTTP_200=answers.Uncertain, HTTP_404=answers.Problem),
    before=refusing(settle_refused),
    validation_error_status=400,
    tags=TAGS,
)
def settle_uncertain(digest_id: int) -> tuple[Response, int]:
    """{"message_ids": [...]}: those the relay's log shows accepted become sent."""
    if missing := _not_found(digest_id):
        return missing
    ids: list[str] = request.context.json.message_ids  # type: ignore[attr-defined]
    settled = settle_from_log(digest_id, set(ids), source="(API)")
    return _uncertain(digest_id, settled=settled)


@bp.post("/digests/<int:digest_id>/uncertain/send-again")
@token_required
@spec.validate(
    resp=described(HTTP_200=answers.SentAgain, HTTP_404=answers.Problem, HTTP_409=answers.Problem),
    tags=TAGS,
)
def send_uncertain_again(digest_id: int) -> tuple[Response, int]:
    """Every uncertain row sent again: a reader whose message did arrive gets it twice."""
    if missing := _not_found(digest_id):
        return missing
    try:
        count = send_again(digest_id)
    except NotAllowed as exc:
        return jsonify(error="conflict", message=str(exc)), 409
    return jsonify(digest_id=digest_id, sent_again=count), 200


def _uncertain(digest_id: int, *, settled: int | None) -> tuple[Response, int]:
    rows = uncertain_rows(digest_id)
    body: dict[str, object] = {
        "digest_id": digest_id,
        "count": len(rows),
        "deliveries": [
            {
                "id": row.delivery_id,
                "email": row.email,
                "message_id": row.message_id,
                "handoff_at": row.handoff_at.isoformat() if row.handoff_at else None,
                "reply": row.reply,
            }
            for row in rows
        ],
    }
    if settled is not None:
        body["settled"] = settled
    return jsonify(body), 200
