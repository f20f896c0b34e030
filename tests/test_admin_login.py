"""The editors' area is behind a login with CSRF protection."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient

from newsletter.admin.accounts import deactivate_editor, save_editor


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
    assert "mot de passe incorrect" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_login_without_a_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    save_editor("chef@example.com", "correct-horse")
    response = client.post(
        "/admin/login", data={"email": "chef@example.com", "password": "correct-horse"}
    )
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


def form_token(client: FlaskClient, path: str, **kwargs: Any) -> str:
    """The CSRF token of the form on `path`, as this client's session holds it."""
    # The fixture's app context outlives requests, so g would keep the token of an earlier
    # request, another client's or another session's: forget it, as a new request would.
    g.pop("csrf_token", None)
    return csrf_token(client.get(path, **kwargs).get_data(as_text=True))


def log_in(
    client: FlaskClient, email: str, password: str, *, next_: str = "", ip: str = "127.0.0.1"
) -> tuple[int, str, str]:
    """Submit the login form from `ip`: the status, the page (if any) and the redirect."""
    environ = {"REMOTE_ADDR": ip}
    token = form_token(client, "/admin/login", environ_base=environ)
    response = client.post(
        f"/admin/login{'?next=' + next_ if next_ else ''}",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base=environ,
    )
    return (
        response.status_code,
        response.get_data(as_text=True),
        response.headers.get("Location", ""),
    )


def comparable(page: str, *typed: str) -> str:
    """The page without what legitimately differs: the form's token and the address typed."""
    page = re.sub(r'name="csrf_token"[^>]*>', "", page)
    for text in typed:
        page = page.replace(text, "ADDRESS")
    return page


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "////evil.example/",
        "/\\evil.example",
        "/%5Cevil.example",
        "https://evil.example",
        "%0d%0aSet-Cookie:x",
        "/admin/%0d%0aSet-Cookie:x",
        "javascript:alert(1)",
        "/%09/evil.example",
    ],
)
def test_login_never_redirects_to_another_site(
    app: Flask, client: FlaskClient, target: str
) -> None:
    save_editor("chef@example.com", "correct-horse")
    status, _, location = log_in(client, "chef@example.com", "correct-horse", next_=target)
    assert (status, location) == (302, "/admin/")
    assert client.get("/admin/").status_code == 200  # logged in all the same


def test_a_next_with_a_nul_or_line_break_falls_back_to_the_dashboard(app: Flask) -> None:
    from newsletter.admin.views import _safe_next

    with app.test_request_context("/admin/login"):
        for target in ("/admin/\x00", "/admin/\r\nSet-Cookie: x", "/admin/\x7f", None, ""):
            assert _safe_next(target) == "/admin/"
        assert _safe_next("/admin/digests/3?tab=report") == "/admin/digests/3?tab=report"


def test_login_returns_to_the_page_asked_for(app: Flask, client: FlaskClient) -> None:
    save_editor("chef@example.com", "correct-horse")
    first = client.get("/admin/articles?region=russie")
    target = first.headers["Location"].partition("next=")[2]
    status, _, location = log_in(client, "chef@example.com", "correct-horse", next_=target)
    assert (status, location) == (302, "/admin/articles?region=russie")


def test_an_unknown_or_malformed_address_gets_the_wrong_password_answer(
    app: Flask, client: FlaskClient
) -> None:
    save_editor("chef@example.com", "correct-horse")
    save_editor("ancien@example.com", "correct-horse")
    deactivate_editor("ancien@example.com")
    wrong = log_in(client, "chef@example.com", "wrong-horse")
    assert wrong[0] == 200 and "mot de passe incorrect" in wrong[1]
    for email, password in [
        ("personne@example.com", "wrong-horse"),
        ("not-an-address", "wrong-horse"),
        ("ancien@example.com", "correct-horse"),  # deactivated: right password, same answer
    ]:
        status, page, _ = log_in(client, email, password)
        assert status == wrong[0]
        assert comparable(page, email) == comparable(wrong[1], "chef@example.com")
    assert client.get("/admin/").status_code == 302


def test_failed_logins_lock_the_account_whatever_the_client_ip(
    app: Flask, client: FlaskClient
) -> None:
    save_editor("chef@example.com", "correct-horse")
    for n in range(5):  # the default limit: 5 failures per 15 minutes, one per address here
        status, page, _ = log_in(client, "Chef@Example.com", "guess", ip=f"203.0.113.{n}")
        assert status == 200 and "mot de passe incorrect" in page
    # Now even the right password, from a new address, is refused for the window.
    status, page, _ = log_in(client, "chef@example.com", "correct-horse", ip="198.51.100.7")
    assert status == 429
    assert "Trop de tentatives" in page
    assert client.get("/admin/").status_code == 302
    # Another account is not concerned.
    save_editor("redaction@example.com", "correct-horse")
    status, _, location = log_in(
        client, "redaction@example.com", "correct-horse", ip="198.51.100.7"
    )
    assert (status, location) == (302, "/admin/")


def test_a_locked_account_and_an_unknown_one_get_the_same_answer(
    app: Flask, client: FlaskClient
) -> None:
    save_editor("chef@example.com", "correct-horse")
    pages = {}
    for email in ("chef@example.com", "personne@example.com"):
        for n in range(5):
            log_in(client, email, "guess", ip=f"203.0.113.{n}")
        status, pages[email], _ = log_in(client, email, "guess", ip="198.51.100.7")
        assert status == 429
    assert comparable(pages["chef@example.com"], "chef@example.com") == comparable(
        pages["personne@example.com"], "personne@example.com"
    )


def test_too_many_logins_from_one_ip_get_the_too_many_attempts_page(
    app: Flask, client: FlaskClient
) -> None:
    for n in range(10):  # "10 per minute" per IP, spread over accounts
        status, _, _ = log_in(client, f"visiteur{n}@example.com", "guess", ip="203.0.113.9")
        assert status == 200
    status, page, _ = log_in(client, "visiteur@example.com", "guess", ip="203.0.113.9")
    assert status == 429
    assert "Trop de tentatives" in page and 'name="password"' in page
