"""Editor accounts and API tokens, for the command line and the console alike.

Every change here leaves an audit entry in its own transaction; `by` is the editor who made
it from the console, None from the command line.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from flask import has_request_context, request

from newsletter.admin.audit import AuditAction, record
from newsletter.admin.sessions import UNSAFE_METHODS, revoke_editor_sessions
from newsletter.models import ApiToken, Editor, db, utcnow
from newsletter.models.editor import check_dummy_password, hash_token


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


def authenticate(email: str, password: str) -> Editor | None:
    """The active editor with this address and password, or None.

    Every failure costs one password check: an unknown or malformed address is checked
    against a dummy hash, so the answer's timing does not tell which addresses are editors'.
    """
    try:
        editor = find_editor(email)
    except ValueError:
        editor = None
    if editor is None:
        check_dummy_password(password)
        return None
    if not editor.check_password(password) or not editor.active:
        return None
    return editor


MIN_PASSWORD_LENGTH = 8


class LastAdmin(Exception):
    """The change would leave no active admin: nobody could manage the accounts any more."""


def save_editor(
    email: str, password: str, *, is_admin: bool = False, by: Editor | None = None
) -> tuple[Editor, bool]:
    """Create the editor, or set a new password on an existing one (ending their sessions).

    The first editor ever made is an admin: someone must be able to manage the others.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    editor = find_editor(email)
    created = editor is None
    if editor is None:
        first = db.session.execute(db.select(Editor.id).limit(1)).first() is None
        editor = Editor(email=normalize_editor_email(email), is_admin=is_admin or first)
        db.session.add(editor)
    else:
        # Whoever held a session with the old password loses it.
        revoke_editor_sessions(editor.id)
    editor.set_password(password)
    editor.is_admin = editor.is_admin or is_admin
    if created:
        record(by, AuditAction.ACCOUNT_CREATED, _account_detail(editor))
    else:
        record(by, AuditAction.PASSWORD_RESET, editor.email)
    db.session.commit()
    return editor, created


def _account_detail(editor: Editor) -> str:
    return f"{editor.email} ({'administrateur' if editor.is_admin else 'éditeur'})"


def deactivate_editor(email: str, *, by: Editor | None = None) -> tuple[Editor, bool]:
    """Refuse the editor's logins from now on, end their sessions and revoke their API tokens;
    False if they were already inactive."""
    editor = find_editor(email)
    if editor is None:
        raise LookupError(email)
    was_active = editor.active
    if was_active:
        editor.active = False
        record(by, AuditAction.ACCOUNT_DEACTIVATED, editor.email)
    revoke_editor_sessions(editor.id)
    # Revoked, not only refused while inactive: reactivating the account brings none back.
    db.session.execute(
        db.update(ApiToken)
        .where(ApiToken.editor_id == editor.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    db.session.commit()
    return editor, was_active


def list_editors() -> list[Editor]:
    return list(db.session.execute(db.select(Editor).order_by(Editor.email)).scalars())


def tokens_of(email: str) -> list[ApiToken]:
    editor = find_editor(email)
    if editor is None:
        raise LookupError(email)
    return list(
        db.session.execute(
            db.select(ApiToken).where(ApiToken.editor_id == editor.id).order_by(ApiToken.id)
        ).scalars()
    )


def revoke_token(token_id: int, *, by: Editor | None = None) -> tuple[ApiToken, bool]:
    """Revoke a token by its id; False if it already was."""
    # Ids are database integers: a larger number names no token (and would overflow SQLite).
    row = db.session.get(ApiToken, token_id) if 0 < token_id < 2**31 else None
    if row is None:
        raise LookupError(token_id)
    if row.revoked_at is not None:
        return row, False
    row.revoked_at = utcnow()
    record(by, AuditAction.TOKEN_REVOKED, _token_detail(row))
    db.session.commit()
    return row, True


def issue_token(email: str, *, name: str = "", by: Editor | None = None) -> str:
    editor = find_editor(email)
    if editor is None:
        raise LookupError(email)
    token = editor.new_token(name)
    db.session.flush()
    record(by, AuditAction.TOKEN_CREATED, _token_detail(editor.tokens[-1]))
    db.session.commit()
    return token


def _token_detail(row: ApiToken) -> str:
    return f"n° {row.id} « {row.name or 'sans nom'} » de {row.editor.email}"


def editor_for_token(token: str) -> Editor | None:
    """The active editor a live bearer token belongs to, or None.

    Joined in SQL: a token whose editor row is gone (deleted by hand) is simply no one's.
    Only requests that change something record the use; a GET or HEAD writes nothing.
    """
    if not token:
        return None
    row = db.session.execute(
        db.select(ApiToken, Editor)
        .join(Editor, Editor.id == ApiToken.editor_id)
        .where(
            ApiToken.token_hash == hash_token(token),
            ApiToken.revoked_at.is_(None),
            Editor.active.is_(True),
        )
    ).one_or_none()
    if row is None:
        return None
    api_token, editor = row
    if has_request_context() and request.method in UNSAFE_METHODS:
        api_token.last_used_at = utcnow()
        db.session.commit()
    return editor


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
