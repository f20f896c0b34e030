"""Editor accounts and API tokens."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

from newsletter.models import ApiToken, Editor, db, utcnow
from newsletter.models.editor import hash_token


def normalize_editor_email(email: str) -> str:
    try:
        # Lower-cased whole: an editor typing their address in any case is the same editor.
        return validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None


def find_editor(email: str) -> Editor | None:
    return db.session.execute(
        db.select(Editor).where(Editor.email == normalize_editor_email(email))
    ).scalar_one_or_none()


def save_editor(email: str, password: str, *, is_admin: bool = False) -> tuple[Editor, bool]:
    """Create the editor, or set a new password on an existing one."""
    if len(password) < 8:
        raise ValueError("the password must have at least 8 characters")
    editor = find_editor(email)
    created = editor is None
    if editor is None:
        editor = Editor(email=normalize_editor_email(email), is_admin=is_admin)
        db.session.add(editor)
    editor.set_password(password)
    editor.is_admin = editor.is_admin or is_admin
    db.session.commit()
    return editor, created


def issue_token(email: str, *, name: str = "") -> str:
    editor = find_editor(email)
    if editor is None:
        raise LookupError(email)
    token = editor.new_token(name)
    db.session.commit()
    return token


def editor_for_token(token: str) -> Editor | None:
    """The active editor a bearer token belongs to, or None."""
    row = db.session.execute(
        db.select(ApiToken).where(
            ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None)
        )
    ).scalar_one_or_none()
    if row is None or not row.editor.active:
        return None
    row.last_used_at = utcnow()
    db.session.commit()
    return row.editor


def ensure_demo_editor(email: str, instance_path: str) -> str:
    """The demo editor's password, generated once and kept in instance/ so reruns print it."""
    path = Path(instance_path) / "demo_editor_password"
    if path.exists():
        password = path.read_text().strip()
    else:
        password = secrets.token_urlsafe(9)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(password)
    editor = find_editor(email)
    if editor is None or not editor.check_password(password):
        save_editor(email, password, is_admin=True)
    return password
