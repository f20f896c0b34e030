"""Every route of the console needs a logged-in editor, and every route that changes state
refuses a request without a valid CSRF token: nothing changes and no mail leaves.

Both walks read the URL map, so a route added later is checked without being listed here.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import Rule

from newsletter.models import Editor, db
from tests.delivery.seed import seed_readers
from tests.support.roles import ADMIN, logged_in, page_token
from tests.support.smtp import SmtpSink
from tests.test_safe_methods import link_values, snapshot

# The only console routes a stranger may use: the login page, its form, and the choice of the
# console's language (the login page is in it too; it changes nothing but the visitor's cookie).
PUBLIC = {"admin.login", "admin.console_language"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# What a form might post: enough for any view to get past parsing and try to change something.
FORM = {
    "editor_id": "1",
    "token_id": "1",
    "reader_id": "1",
    "name": "walk",
    "email": "nouveau@revue-internationale.example",
    "password": "un mot de passe assez long",
    "regions": "asie",
    "since": "2021-12-01",
    "until": "2022-06-01",
    "url": "https://www.revue-internationale.example/flux.xml",
    "consent": "y",
    "language": "en",
}


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink) -> dict[str, Any]:
    return {"SMTP_URL": smtp_sink.url}


def console_routes(app: Flask, values: dict[tuple[str, str], Any]) -> list[tuple[Rule, str]]:
    adapter = app.url_map.bind("newsletter.test")
    routes = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint.startswith("admin."):
            arguments = {name: values.get((rule.endpoint, name), 1) for name in rule.arguments}
            routes.append((rule, adapter.build(rule.endpoint, arguments)))
    return routes


def test_every_console_route_sends_a_stranger_to_the_login_and_changes_nothing(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    values = link_values(app)
    stranger = app.test_client()
    before = snapshot()
    checked = 0
    for rule, path in console_routes(app, values):
        if rule.endpoint in PUBLIC:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            # A stranger can hold a valid CSRF token (the login page gives one, afresh each
            # time: logging out clears it): it opens nothing.
            token = page_token(stranger, "/admin/login") if method in UNSAFE else ""
            data = {**FORM, "csrf_token": token} if method in UNSAFE else None
            response = stranger.open(path, method=method, data=data)
            assert response.status_code == 302, (rule.endpoint, method, response.status_code)
            assert response.headers["Location"].startswith("/admin/login"), rule.endpoint
            checked += 1
    assert checked > 40  # the walk saw the console, not an empty map
    assert snapshot() == before
    assert smtp_sink.messages == []


def test_every_state_changing_console_route_refuses_a_request_without_a_csrf_token(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    values = link_values(app)
    seed_readers(2, start=10)
    admin = logged_in(app, ADMIN, admin=True)  # an admin reaches every route
    editor = Editor(email="redaction@revue-internationale.example", is_admin=False)
    editor.set_password("un autre mot de passe")
    db.session.add(editor)
    db.session.commit()
    before = snapshot()
    refused = []
    for rule, path in console_routes(app, values):
        for method in sorted((rule.methods or set()) & UNSAFE):
            for forged in ({}, {"csrf_token": "forged"}):
                response = admin.open(path, method=method, data={**FORM, **forged})
                assert response.status_code == 400, (rule.endpoint, method, forged)
            refused.append(rule.endpoint)
    # Among them, the routes that send mail or change readers, accounts and editions.
    assert {
        "admin.digest_special",
        "admin.digest_test",
        "admin.account_create",
        "admin.reader_erase",
        "admin.logout",
    } <= set(refused)
    assert snapshot() == before
    assert smtp_sink.messages == []
