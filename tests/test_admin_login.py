"""The editors' area is behind a login with CSRF protection."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from newsletter.admin.accounts import save_editor


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token in the form"
    return match.group(1)


def test_the_dashboard_redirects_to_login_when_logged_out(client: FlaskClient) -> None:
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")


def test_an_editor_logs_in_and_sees_the_dashboard(app: Flask, client: FlaskClient) -> None:
    save_editor("chef@example.com", "correct-horse")
    token = csrf_token(client.get("/admin/login").get_data(as_text=True))
    response = client.post(
        "/admin/login?next=/admin/",
        data={"email": "chef@example.com", "password": "correct-horse", "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    page = client.get("/admin/").get_data(as_text=True)
    assert "Tableau de bord" in page
    assert "chef@example.com" in page
    for path in ("/admin/articles", "/admin/digests/preview", "/admin/digests/special"):
        assert f'href="{path}"' in page  # every editors' page is one click away


def test_a_wrong_password_does_not_log_in(app: Flask, client: FlaskClient) -> None:
    save_editor("chef@example.com", "correct-horse")
    token = csrf_token(client.get("/admin/login").get_data(as_text=True))
    response = client.post(
        "/admin/login",
        data={"email": "chef@example.com", "password": "wrong-horse", "csrf_token": token},
    )
    assert response.status_code == 200
    assert "wrong password" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_login_without_a_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    save_editor("chef@example.com", "correct-horse")
    response = client.post(
        "/admin/login", data={"email": "chef@example.com", "password": "correct-horse"}
    )
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


def test_login_never_redirects_to_another_site(app: Flask, client: FlaskClient) -> None:
    save_editor("chef@example.com", "correct-horse")
    token = csrf_token(client.get("/admin/login").get_data(as_text=True))
    response = client.post(
        "/admin/login?next=//evil.example/",
        data={"email": "chef@example.com", "password": "correct-horse", "csrf_token": token},
    )
    assert response.headers["Location"] == "/admin/"
