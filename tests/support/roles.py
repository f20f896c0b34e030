"""Logged-in clients for the accounts tests: an admin and an editor, each their own browser."""

from __future__ import annotations

import re
import secrets

from flask import Flask, g
from flask.testing import FlaskClient

from newsletter.admin.sessions import COOKIE_KEY
from newsletter.models import Editor, EditorSession, db
from newsletter.models.editor import hash_token

ADMIN = "admin@revue-internationale.example"
EDITOR = "redaction@revue-internationale.example"
PASSWORD = "mot-de-passe-initial"


def logged_in(app: Flask, email: str, *, admin: bool) -> FlaskClient:
    """A new client with a live session for a new editor of that role."""
    editor = Editor(email=email, is_admin=admin)
    editor.set_password(PASSWORD)
    db.session.add(editor)
    db.session.commit()
    return session_for(app, editor)


def session_for(app: Flask, editor: Editor) -> FlaskClient:
    client = app.test_client()
    value = secrets.token_urlsafe(32)
    db.session.add(EditorSession(id=hash_token(value), editor_id=editor.id))
    db.session.commit()
    with client.session_transaction() as session:
        session[COOKIE_KEY] = value
    return client


def page_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of a page's forms, as this client's session holds it."""
    # The fixture's app context outlives requests: forget the last request's token.
    g.pop("csrf_token", None)
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def editor_named(email: str) -> Editor:
    db.session.expire_all()
    return db.session.execute(db.select(Editor).where(Editor.email == email)).scalar_one()
