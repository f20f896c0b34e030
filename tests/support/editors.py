"""An editor's session without the login form (the form itself is tested in test_admin_login)."""

from __future__ import annotations

from flask.testing import FlaskClient

from newsletter.models import Editor, db


def log_in_editor(
    client: FlaskClient, email: str = "chef@revue-internationale.example"
) -> FlaskClient:
    editor = Editor(email=email)
    editor.set_password("unused")
    db.session.add(editor)
    db.session.commit()
    with client.session_transaction() as session:
        session["editor_id"] = editor.id
    return client
