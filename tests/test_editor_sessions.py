"""Editors' sessions live on the server: a copied cookie dies with logout, a new password,
deactivation or age; API tokens of a gone or inactive editor are refused; reads write nothing."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from newsletter.admin.accounts import issue_token, save_editor
from newsletter.models import ApiToken, Editor, EditorSession, db, utcnow
from tests.test_admin_login import form_token, log_in


def logged_in_with_a_copy(app: Flask, client: FlaskClient) -> FlaskClient:
    """Log the editor in on `client`; a second client replaying the same cookie (a thief's)."""
    save_editor("chef@example.com", "correct-horse")
    status, _, _ = log_in(client, "chef@example.com", "correct-horse")
    assert status == 302
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/admin/").status_code == 200  # the copy works while the session lives
    return thief


def sent_to_login(client: FlaskClient) -> bool:
    response = client.get("/admin/")
    return response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_the_cookie_holds_no_editor_id_and_login_records_the_session(
    app: Flask, client: FlaskClient
) -> None:
    save_editor("chef@example.com", "correct-horse")
    client.get("/admin/login")
    log_in(client, "chef@example.com", "correct-horse", ip="192.0.2.10")
    with client.session_transaction() as session:
        assert "editor_id" not in session
    row = db.session.execute(db.select(EditorSession)).scalar_one()
    assert row.ip == "192.0.2.10" and row.revoked_at is None
    assert row.user_agent  # the test client's own, recorded as sent


def test_a_copied_cookie_is_refused_after_logout(app: Flask, client: FlaskClient) -> None:
    thief = logged_in_with_a_copy(app, client)
    response = client.post("/admin/logout", data={"csrf_token": form_token(client, "/admin/")})
    assert response.status_code == 302
    assert sent_to_login(thief)
    assert sent_to_login(client)


def test_a_copied_cookie_is_refused_after_a_new_password(app: Flask, client: FlaskClient) -> None:
    thief = logged_in_with_a_copy(app, client)
    result = app.test_cli_runner().invoke(
        args=["editors", "create", "chef@example.com", "--password", "new-horse-staple"]
    )
    assert result.exit_code == 0, result.output
    assert sent_to_login(thief)
    assert sent_to_login(client)  # the editor's own session too: they log in with the new one
    status, _, _ = log_in(client, "chef@example.com", "new-horse-staple")
    assert status == 302 and client.get("/admin/").status_code == 200


def test_deactivation_ends_sessions_and_refuses_the_editors_tokens(
    app: Flask, client: FlaskClient
) -> None:
    thief = logged_in_with_a_copy(app, client)
    token = issue_token("chef@example.com", name="site")
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/articles", headers=auth).status_code == 200
    result = app.test_cli_runner().invoke(args=["editors", "deactivate", "chef@example.com"])
    assert result.exit_code == 0, result.output
    assert sent_to_login(thief)
    assert sent_to_login(client)
    response = client.get("/api/v1/articles", headers=auth)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    status, _, _ = log_in(client, "chef@example.com", "correct-horse")
    assert status == 200 and sent_to_login(client)


def test_a_session_older_than_the_limit_is_refused(app: Flask, client: FlaskClient) -> None:
    thief = logged_in_with_a_copy(app, client)
    hours = app.config["EDITOR_SESSION_HOURS"]
    db.session.execute(
        sa.update(EditorSession).values(created_at=utcnow() - timedelta(hours=hours, minutes=1))
    )
    db.session.commit()
    assert sent_to_login(thief)
    assert sent_to_login(client)


def test_reading_pages_and_the_api_writes_nothing_posting_records_the_use(
    app: Flask, client: FlaskClient
) -> None:
    logged_in_with_a_copy(app, client)
    token = issue_token("chef@example.com")
    auth = {"Authorization": f"Bearer {token}"}

    def rows() -> list[tuple[object, ...]]:
        db.session.expire_all()
        sessions = db.session.execute(sa.select(EditorSession.__table__)).all()
        tokens = db.session.execute(sa.select(ApiToken.__table__)).all()
        return [tuple(row) for row in [*sessions, *tokens]]

    before = rows()
    for method in ("GET", "HEAD"):
        assert client.open("/admin/", method=method).status_code == 200
        assert client.open("/api/v1/articles", method=method, headers=auth).status_code == 200
    assert rows() == before
    stored = db.session.execute(db.select(ApiToken)).scalar_one()
    assert stored.last_used_at is None

    client.post("/api/v1/articles", json={}, headers=auth)  # refused content, but a use
    db.session.expire_all()
    assert db.session.execute(db.select(ApiToken)).scalar_one().last_used_at is not None

    seen = db.session.execute(db.select(EditorSession.last_seen_at)).scalars().all()
    token = form_token(client, "/admin/")
    client.post("/admin/articles/999999/regions", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.execute(db.select(EditorSession.last_seen_at)).scalars().all() != seen


def test_a_token_whose_editor_row_is_gone_is_a_401(app: Flask, client: FlaskClient) -> None:
    save_editor("chef@example.com", "correct-horse")
    token = issue_token("chef@example.com")
    editor_id = db.session.execute(db.select(Editor.id)).scalar_one()
    db.session.remove()
    # Deleted by hand with the foreign keys off, as a database shell may: the token stays.
    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        else:
            connection.exec_driver_sql("SET session_replication_role = replica")
        connection.execute(sa.delete(Editor.__table__).where(Editor.__table__.c.id == editor_id))
        connection.commit()
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        else:
            connection.exec_driver_sql("SET session_replication_role = DEFAULT")
    assert db.session.execute(sa.select(sa.func.count()).select_from(ApiToken)).scalar_one() == 1
    for method, path in (("GET", "/api/v1/articles"), ("POST", "/api/v1/articles")):
        response = client.open(
            path, method=method, json={}, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401
        assert response.get_json()["error"] == "unauthorized"
