"""Admins manage editors and API tokens from the console; each change leaves an audit entry;
each editor changes their own password."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from newsletter.models import ApiToken, db
from newsletter.models.editor import AuditEntry, hash_token
from tests.delivery.seed import seed_digest
from tests.support.roles import (
    ADMIN,
    EDITOR,
    PASSWORD,
    editor_named,
    logged_in,
    page_token,
    session_for,
)


def post(
    client: FlaskClient, path: str, page: str = "/admin/accounts", **data: str
) -> TestResponse:
    """Submit a form of `page` to `path` with its CSRF token."""
    return client.post(path, data={"csrf_token": page_token(client, page), **data})


def shown_secret(html: str) -> str:
    match = re.search(r'id="secret" class="secret" type="text" readonly value="([^"]+)"', html)
    assert match, "no secret on the page"
    return match.group(1)


def log_in_with(app: Flask, email: str, password: str) -> int:
    client = app.test_client()
    response = client.post(
        "/admin/login",
        data={
            "email": email,
            "password": password,
            "csrf_token": page_token(client, "/admin/login"),
        },
    )
    return response.status_code  # 302 logged in, 200 the form again


def audit_rows() -> list[tuple[str | None, str, str]]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(AuditEntry.editor_email, AuditEntry.action, AuditEntry.detail).order_by(
            AuditEntry.id
        )
    )
    return [tuple(row) for row in rows]


def test_an_admin_creates_an_editor_whose_temporary_password_logs_in_once_shown(
    app: Flask,
) -> None:
    admin = logged_in(app, ADMIN, admin=True)
    response = post(admin, "/admin/accounts/new", email="Nouvelle@Example.com", role="editor")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "Compte créé : nouvelle@example.com" in page
    password = shown_secret(page)
    assert log_in_with(app, "nouvelle@example.com", password) == 302
    listing = admin.get("/admin/accounts").get_data(as_text=True)
    assert "nouvelle@example.com" in listing and password not in listing
    assert not editor_named("nouvelle@example.com").is_admin
    assert audit_rows() == [(ADMIN, "account_created", "nouvelle@example.com (éditeur)")]


def test_creating_an_account_for_a_taken_or_malformed_address_says_so(app: Flask) -> None:
    admin = logged_in(app, ADMIN, admin=True)
    taken = post(admin, "/admin/accounts/new", email=ADMIN, role="admin")
    assert taken.status_code == 303
    assert f"Un compte existe déjà pour {ADMIN}" in admin.get("/admin/accounts").get_data(
        as_text=True
    )
    bad = post(admin, "/admin/accounts/new", email="pas-une-adresse", role="editor")
    assert bad.status_code == 303
    assert "Cette adresse e-mail n’est pas valide." in admin.get("/admin/accounts").get_data(
        as_text=True
    )
    assert audit_rows() == []


def test_deactivating_an_editor_ends_their_sessions_and_revokes_their_tokens(
    app: Flask,
) -> None:
    admin = logged_in(app, ADMIN, admin=True)
    editor_client = logged_in(app, EDITOR, admin=False)
    editor = editor_named(EDITOR)
    token = editor.new_token("cms")
    db.session.commit()
    digest_id = seed_digest()
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.get(f"/api/v1/digests/{digest_id}", headers=bearer).status_code == 200

    response = post(admin, "/admin/accounts/deactivate", editor_id=str(editor.id))
    assert response.status_code == 303
    page = admin.get("/admin/accounts").get_data(as_text=True)
    assert f"Compte de {EDITOR} désactivé" in page and "désactivé</td>" in page
    assert editor_client.get("/admin/").status_code == 302
    assert api.get(f"/api/v1/digests/{digest_id}", headers=bearer).status_code == 401
    assert log_in_with(app, EDITOR, PASSWORD) == 200
    assert "révoqué le" in admin.get("/admin/tokens").get_data(as_text=True)

    post(admin, "/admin/accounts/reactivate", editor_id=str(editor.id))
    assert log_in_with(app, EDITOR, PASSWORD) == 302
    # Reactivating the account brings no token back.
    assert api.get(f"/api/v1/digests/{digest_id}", headers=bearer).status_code == 401
    assert [action for _, action, _ in audit_rows()] == [
        "account_deactivated",
        "account_reactivated",
    ]


def test_a_password_reset_shows_a_new_temporary_password_and_ends_sessions(app: Flask) -> None:
    admin = logged_in(app, ADMIN, admin=True)
    editor_client = logged_in(app, EDITOR, admin=False)
    editor = editor_named(EDITOR)
    page = post(admin, "/admin/accounts/reset-password", editor_id=str(editor.id))
    assert page.status_code == 200
    password = shown_secret(page.get_data(as_text=True))
    assert editor_client.get("/admin/").status_code == 302
    assert log_in_with(app, EDITOR, PASSWORD) == 200
    assert log_in_with(app, EDITOR, password) == 302
    assert audit_rows() == [(ADMIN, "password_reset", EDITOR)]


def test_an_admin_changes_a_role_and_the_audit_log_says_who_and_what(app: Flask) -> None:
    admin = logged_in(app, ADMIN, admin=True)
    logged_in(app, EDITOR, admin=False)
    editor = editor_named(EDITOR)
    post(admin, "/admin/accounts/role", editor_id=str(editor.id), role="admin")
    assert editor_named(EDITOR).is_admin
    post(admin, "/admin/accounts/role", editor_id=str(editor.id), role="editor")
    assert not editor_named(EDITOR).is_admin
    log = admin.get("/admin/audit").get_data(as_text=True)
    newest, oldest = log.index("devient éditeur"), log.index("devient administrateur")
    assert newest < oldest  # newest first
    assert "Rôle changé" in log and ADMIN in log


def test_the_last_active_admin_can_neither_demote_nor_deactivate_themselves(
    app: Flask,
) -> None:
    admin = logged_in(app, ADMIN, admin=True)
    me = editor_named(ADMIN)
    for path, extra in (
        ("/admin/accounts/role", {"role": "editor"}),
        ("/admin/accounts/deactivate", {}),
    ):
        assert post(admin, path, editor_id=str(me.id), **extra).status_code == 303
        page = admin.get("/admin/accounts").get_data(as_text=True)
        assert f"Refusé : {ADMIN} est le dernier administrateur actif" in page
    me = editor_named(ADMIN)
    assert me.is_admin and me.active
    assert audit_rows() == []

    # With a second active admin, the first may step down.
    logged_in(app, "autre@revue-internationale.example", admin=True)
    post(admin, "/admin/accounts/role", editor_id=str(me.id), role="editor")
    assert not editor_named(ADMIN).is_admin
    assert admin.get("/admin/accounts").status_code == 403


def test_an_inactive_admin_does_not_count_as_the_admin_kept(app: Flask) -> None:
    admin = logged_in(app, ADMIN, admin=True)
    logged_in(app, "ancien@revue-internationale.example", admin=True)
    other = editor_named("ancien@revue-internationale.example")
    post(admin, "/admin/accounts/deactivate", editor_id=str(other.id))
    me = editor_named(ADMIN)
    post(admin, "/admin/accounts/role", editor_id=str(me.id), role="editor")
    assert editor_named(ADMIN).is_admin


def test_a_token_is_shown_once_works_on_the_api_and_is_refused_once_revoked(
    app: Flask,
) -> None:
    admin = logged_in(app, ADMIN, admin=True)
    me = editor_named(ADMIN)
    digest_id = seed_digest()
    response = post(
        admin, "/admin/tokens/new", page="/admin/tokens", name="Site <CMS>", editor_id=str(me.id)
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    token = shown_secret(response.get_data(as_text=True))
    stored = db.session.execute(sa.select(ApiToken.token_hash, ApiToken.name)).one()
    assert stored == (hash_token(token), "Site <CMS>")

    listing = admin.get("/admin/tokens").get_data(as_text=True)
    assert token not in listing
    assert "Site &lt;CMS&gt;" in listing and "jamais" in listing
    bearer = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get(f"/api/v1/digests/{digest_id}", headers=bearer).status_code == 200

    token_id = db.session.execute(sa.select(ApiToken.id)).scalar_one()
    revoked = post(admin, "/admin/tokens/revoke", page="/admin/tokens", token_id=str(token_id))
    assert revoked.status_code == 303
    assert "révoqué" in admin.get("/admin/tokens").get_data(as_text=True)
    assert app.test_client().get(f"/api/v1/digests/{digest_id}", headers=bearer).status_code == 401
    assert [action for _, action, _ in audit_rows()] == ["token_created", "token_revoked"]
    assert all(token not in detail for _, _, detail in audit_rows())


def test_unknown_or_malformed_ids_are_a_404_not_a_500(app: Flask) -> None:
    admin = logged_in(app, ADMIN, admin=True)
    for value in ("999999", "99999999999999999999999", "abc", "-1"):
        assert post(admin, "/admin/accounts/deactivate", editor_id=value).status_code == 404
        assert (
            post(admin, "/admin/tokens/revoke", page="/admin/tokens", token_id=value).status_code
            == 404
        )
    assert admin.get("/admin/audit?before=abc").status_code == 200


def test_every_accounts_form_refuses_a_post_without_its_csrf_token(app: Flask) -> None:
    admin = logged_in(app, ADMIN, admin=True)
    logged_in(app, EDITOR, admin=False)
    editor = editor_named(EDITOR)
    for path, data in (
        ("/admin/accounts/new", {"email": "x@example.com", "role": "admin"}),
        ("/admin/accounts/role", {"editor_id": str(editor.id), "role": "admin"}),
        ("/admin/accounts/deactivate", {"editor_id": str(editor.id)}),
        ("/admin/accounts/reset-password", {"editor_id": str(editor.id)}),
        ("/admin/tokens/new", {"name": "x", "editor_id": str(editor.id)}),
        (
            "/admin/me/password",
            {"current": PASSWORD, "new": "nouveau-mot", "confirm": "nouveau-mot"},
        ),
    ):
        assert admin.post(path, data=data).status_code == 400, path
    editor = editor_named(EDITOR)
    assert editor.active and not editor.is_admin and editor.check_password(PASSWORD)
    assert db.session.execute(sa.select(sa.func.count(ApiToken.id))).scalar_one() == 0
    assert audit_rows() == []


def test_an_editor_changes_their_own_password_and_their_other_sessions_end(app: Flask) -> None:
    browser = logged_in(app, EDITOR, admin=False)
    other_browser = session_for(app, editor_named(EDITOR))
    wrong = post(
        browser,
        "/admin/me/password",
        page="/admin/me",
        current="pas-le-bon",
        new="nouveau-secret",
        confirm="nouveau-secret",
    )
    assert wrong.status_code == 400
    assert "Ce n’est pas votre mot de passe actuel." in wrong.get_data(as_text=True)
    short = post(
        browser,
        "/admin/me/password",
        page="/admin/me",
        current=PASSWORD,
        new="court",
        confirm="court",
    )
    assert "Au moins 8 caractères" in short.get_data(as_text=True)

    done = post(
        browser,
        "/admin/me/password",
        page="/admin/me",
        current=PASSWORD,
        new="nouveau-secret",
        confirm="nouveau-secret",
    )
    assert done.status_code == 303
    assert "Mot de passe changé" in browser.get("/admin/me").get_data(as_text=True)
    assert other_browser.get("/admin/").status_code == 302
    assert log_in_with(app, EDITOR, "nouveau-secret") == 302
    assert audit_rows() == [(EDITOR, "password_changed", EDITOR)]


def test_untrusted_text_shows_as_text_on_the_accounts_pages(app: Flask) -> None:
    admin = logged_in(app, ADMIN, admin=True)
    attack = '"><img src=x onerror=alert(1)>'
    me = editor_named(ADMIN)
    post(admin, "/admin/tokens/new", page="/admin/tokens", name=attack, editor_id=str(me.id))
    for path in ("/admin/tokens", "/admin/audit"):
        page = admin.get(path).get_data(as_text=True)
        assert "<img src=x" not in page
        assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
