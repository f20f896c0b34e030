"""Two roles: an editor runs articles, feeds and editions; an admin also manages accounts,
tokens and readers' data. Every admin-only route answers an editor with a 403 in French."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from newsletter.admin.accounts import ensure_demo_editor, find_editor
from newsletter.models import ReaderImport, db
from tests.delivery.seed import seed_readers
from tests.support.roles import ADMIN, EDITOR, logged_in, page_token

# The admin-only pages this issue adds; the walk below must find at least these.
ACCOUNT_ENDPOINTS = {
    "admin.accounts",
    "admin.account_create",
    "admin.account_role",
    "admin.account_deactivate",
    "admin.account_reactivate",
    "admin.account_reset_password",
    "admin.tokens",
    "admin.token_create",
    "admin.token_revoke",
    "admin.audit_log",
}


def admin_only_rules(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, path, method) of every route marked admin_required."""
    found = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if getattr(view, "admin_only", False):
            # Ids are 1: the first row of a table (the admin's test below makes a reader).
            ids = {name: 1 for name in rule.arguments}
            path = app.url_map.bind("newsletter.test").build(rule.endpoint, ids)
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                found.append((rule.endpoint, path, method))
    return found


def test_an_editor_gets_a_french_403_on_every_admin_only_route(app: Flask) -> None:
    rules = admin_only_rules(app)
    assert {endpoint for endpoint, _, _ in rules} >= ACCOUNT_ENDPOINTS
    editor = logged_in(app, EDITOR, admin=False)
    token = page_token(editor, "/admin/me")
    for endpoint, path, method in rules:
        data = {"csrf_token": token, "editor_id": "1", "token_id": "1", "name": "x"}
        response = editor.open(path, method=method, data=data if method == "POST" else None)
        assert response.status_code == 403, (endpoint, method, response.status_code)
        assert "Accès réservé aux administrateurs" in response.get_data(as_text=True)


def test_an_admin_opens_every_admin_only_page(app: Flask) -> None:
    admin = logged_in(app, ADMIN, admin=True)
    seed_readers(1)
    db.session.add(ReaderImport(filename="list.csv", encoding="utf-8", consent_note="form"))
    db.session.commit()
    for endpoint, path, method in admin_only_rules(app):
        if method == "GET":
            assert admin.get(path).status_code == 200, endpoint


def test_admin_only_routes_send_a_logged_out_visitor_to_the_login(app: Flask) -> None:
    client = app.test_client()
    for _, path, method in admin_only_rules(app):
        if method == "GET":
            response = client.get(path)
            assert response.status_code == 302
            assert response.headers["Location"].startswith("/admin/login")


def test_the_menu_shows_comptes_to_an_admin_and_mon_compte_to_an_editor(app: Flask) -> None:
    admin_page = logged_in(app, ADMIN, admin=True).get("/admin/").get_data(as_text=True)
    editor_page = logged_in(app, EDITOR, admin=False).get("/admin/").get_data(as_text=True)
    assert 'href="/admin/accounts">Comptes</a>' in admin_page
    assert 'href="/admin/accounts"' not in editor_page
    assert 'href="/admin/me">Mon compte</a>' in editor_page


def test_the_first_editor_made_from_the_command_line_is_an_admin_and_the_next_is_not(
    app: Flask,
) -> None:
    runner = app.test_cli_runner()
    for email in ("premier@example.com", "second@example.com"):
        result = runner.invoke(args=["editors", "create", email, "--password", "long-enough"])
        assert result.exit_code == 0, result.output
    listed = runner.invoke(args=["editors", "list"]).output.splitlines()
    assert listed[0].split()[:2] == ["premier@example.com", "admin"]
    assert listed[1].split()[:2] == ["second@example.com", "editor"]


def test_the_demo_editor_is_an_admin(app: Flask, tmp_path: Path) -> None:
    ensure_demo_editor("editor@example.com", str(tmp_path))
    editor = find_editor("editor@example.com")
    assert editor is not None and editor.is_admin
