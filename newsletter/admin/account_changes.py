"""What admins change on accounts from the console (role, active, a temporary password) and
what each editor changes on their own (their password), with the rule that keeps an admin."""

from __future__ import annotations

import secrets

from newsletter.admin.accounts import (
    MIN_PASSWORD_LENGTH,
    LastAdmin,
    deactivate_editor,
    normalize_editor_email,
    save_editor,
)
from newsletter.admin.audit import AuditAction, record
from newsletter.admin.sessions import revoke_editor_sessions
from newsletter.models import Editor, db


class EmailTaken(Exception):
    """Another account has this address."""


def temporary_password() -> str:
    """Shown once to the admin, who hands it over; its holder then sets their own."""
    return secrets.token_urlsafe(12)


def create_editor(email: str, *, is_admin: bool, by: Editor) -> tuple[Editor, str]:
    """A new account with a temporary password; ValueError for a malformed address."""
    normalized = normalize_editor_email(email)
    if db.session.execute(db.select(Editor.id).where(Editor.email == normalized)).first():
        raise EmailTaken(normalized)
    password = temporary_password()
    editor, _ = save_editor(normalized, password, is_admin=is_admin, by=by)
    return editor, password


def reset_password(editor: Editor, *, by: Editor) -> str:
    """A new temporary password; every session of the editor ends."""
    password = temporary_password()
    save_editor(editor.email, password, by=by)
    return password


def set_role(editor: Editor, *, is_admin: bool, by: Editor) -> bool:
    """Make the editor an admin or not; False if it already was so. Raises LastAdmin."""
    if editor.is_admin == is_admin:
        return False
    if not is_admin:
        _keep_an_admin(editor)
    editor.is_admin = is_admin
    role = "administrateur" if is_admin else "éditeur"
    record(by, AuditAction.ROLE_CHANGED, f"{editor.email} devient {role}")
    db.session.commit()
    return True


def deactivate(editor: Editor, *, by: Editor) -> bool:
    """Sessions end and API tokens are revoked (as the CLI does). Raises LastAdmin."""
    _keep_an_admin(editor)
    _, was_active = deactivate_editor(editor.email, by=by)
    return was_active


def reactivate(editor: Editor, *, by: Editor) -> bool:
    """Logins accepted again with the password the editor had; revoked tokens stay revoked."""
    if editor.active:
        return False
    editor.active = True
    record(by, AuditAction.ACCOUNT_REACTIVATED, editor.email)
    db.session.commit()
    return True


def change_own_password(editor: Editor, current: str, new: str) -> None:
    """ValueError if the current password is wrong or the new one too short. Every session of
    the editor ends, this one included: the caller opens a new one for the browser in use."""
    if not editor.check_password(current):
        raise ValueError("current")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise ValueError("length")
    editor.set_password(new)
    revoke_editor_sessions(editor.id)
    record(editor, AuditAction.PASSWORD_CHANGED, editor.email)
    db.session.commit()


def _keep_an_admin(editor: Editor) -> None:
    """Refuse to remove the last active admin.

    The active admins' rows are locked (PostgreSQL) before counting: two admins demoting each
    other at once are serialized, and the second sees the first's change, not a stale count.
    """
    if not (editor.is_admin and editor.active):
        return
    admins = db.session.execute(
        db.select(Editor.id)
        .where(Editor.is_admin.is_(True), Editor.active.is_(True))
        # Primary-key order: every transaction takes the locks in the same order, no deadlock.
        .order_by(Editor.id)
        .with_for_update()
    ).scalars()
    if not [admin_id for admin_id in admins if admin_id != editor.id]:
        db.session.rollback()
        raise LastAdmin(editor.email)
