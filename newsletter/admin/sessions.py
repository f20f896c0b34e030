"""Editors' sessions kept on the server: the cookie holds a random value, the table its hash.

A copied cookie is worth nothing once its row is revoked (logout), once the editor gets a new
password or is deactivated (every row of theirs), or after EDITOR_SESSION_HOURS.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app, request

from newsletter.models import Editor, EditorSession, db, utcnow
from newsletter.models.editor import hash_token

COOKIE_KEY = "editor_session"
# Requests that change something; only these move last_seen_at, a page read writes nothing.
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def open_session(editor: Editor) -> str:
    """Record a new session for the editor (not committed); the value for the cookie."""
    value = secrets.token_urlsafe(32)
    now = utcnow()
    # A login is also when this editor's expired rows go: the table stays small without a job.
    db.session.execute(
        db.delete(EditorSession).where(
            EditorSession.editor_id == editor.id, EditorSession.created_at < _oldest_live(now)
        )
    )
    db.session.add(
        EditorSession(
            id=hash_token(value),
            editor_id=editor.id,
            created_at=now,
            last_seen_at=now,
            user_agent=request.user_agent.string[:400] or None,
            ip=(request.remote_addr or "")[:64] or None,
        )
    )
    return value


def live_editor(value: object) -> Editor | None:
    """The active editor whose live session the cookie value names, or None."""
    if not isinstance(value, str) or not value:
        return None
    row = db.session.execute(
        db.select(EditorSession, Editor)
        .join(Editor, Editor.id == EditorSession.editor_id)
        .where(
            EditorSession.id == hash_token(value),
            EditorSession.revoked_at.is_(None),
            EditorSession.created_at >= _oldest_live(utcnow()),
            Editor.active.is_(True),
        )
    ).one_or_none()
    if row is None:
        return None
    record, editor = row
    if request.method in UNSAFE_METHODS:
        record.last_seen_at = utcnow()
        db.session.commit()
    return editor


def revoke_session(value: object) -> None:
    """End the session the cookie value names (logout); not committed."""
    if isinstance(value, str) and value:
        db.session.execute(
            db.update(EditorSession)
            .where(EditorSession.id == hash_token(value), EditorSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


def revoke_editor_sessions(editor_id: int) -> None:
    """End every session of the editor (new password, deactivation); not committed."""
    db.session.execute(
        db.update(EditorSession)
        .where(EditorSession.editor_id == editor_id, EditorSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def live_session_count(editor_id: int) -> int:
    return db.session.execute(
        db.select(db.func.count())
        .select_from(EditorSession)
        .where(
            EditorSession.editor_id == editor_id,
            EditorSession.revoked_at.is_(None),
            EditorSession.created_at >= _oldest_live(utcnow()),
        )
    ).scalar_one()


def _oldest_live(now: datetime) -> datetime:
    return now - timedelta(hours=current_app.config["EDITOR_SESSION_HOURS"])
