"""An editor's session without the login form (the form itself is tested in test_admin_login)."""

from __future__ import annotations

import secrets

from flask.testing import FlaskClient

from newsletter.admin.sessions import COOKIE_KEY
from newsletter.models import Editor, EditorSession, db
from newsletter.models.editor import hash_token


def log_in_editor(
    client: FlaskClient, email: str = "chef@revue-internationale.example"
) -> FlaskClient:
    editor = Editor(email=email)
    editor.set_password("unused")
    db.session.add(editor)
    db.session.commit()
    value = secrets.token_urlsafe(32)
    db.session.add(EditorSession(id=hash_token(value), editor_id=editor.id))
    db.session.commit()
    with client.session_transaction() as session:
        session[COOKIE_KEY] = value
    return client
