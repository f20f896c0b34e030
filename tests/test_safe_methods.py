"""GET, HEAD and OPTIONS never change anything, on any route.

Mail scanners and link previewers fetch every link of an email, often with HEAD; a
confirmation, an unsubscribe or an erasure must need a POST. The walk below sends the three
safe methods to every rule of the URL map with valid links, a logged-in editor and a live
API token, and compares every table and the outgoing mail before and after. The same walk
without credentials shows the editors' pages and the API keep their data to themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from newsletter.admin.accounts import issue_token
from newsletter.clicks.refs import ClickRef, sign_ref
from newsletter.digests.links import view_url
from newsletter.models import Subscriber, db
from newsletter.subscriptions import tokens
from newsletter.subscriptions.tokens import Purpose
from tests.delivery.seed import seed_articles, seed_digest, seed_readers
from tests.support.editors import log_in_editor
from tests.support.smtp import SmtpSink

SAFE = ("GET", "HEAD", "OPTIONS")


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink) -> dict[str, Any]:
    return {"SMTP_URL": smtp_sink.url}


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    db.session.remove()
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            rows = connection.execute(sa.select(table)).all()
            tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return tables


def urls_for_every_rule(app: Flask, values: dict[str, Any]) -> Iterator[tuple[Rule, str]]:
    adapter = app.url_map.bind("newsletter.test")
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        arguments = {name: values[(rule.endpoint, name)] for name in rule.arguments}
        yield rule, adapter.build(rule.endpoint, arguments, method=None)


def path_of(url: str) -> str:
    return urlsplit(url).path


def link_values(app: Flask) -> dict[tuple[str, str], Any]:
    """A valid value for every argument of every rule: live tokens, existing ids."""
    seed_articles()
    pending, confirmed = seed_readers(1, status="pending") + seed_readers(1, start=1)
    readers = {
        s.email: s
        for s in db.session.execute(db.select(Subscriber)).scalars()
        if s.email in (pending, confirmed)
    }
    digest_id = seed_digest()
    first_article = db.session.execute(sa.text("SELECT min(id) FROM articles")).scalar_one()
    waiting, reader = readers[pending], readers[confirmed]
    return {
        ("subscriptions.confirm", "token"): tokens.sign(
            Purpose.CONFIRM, waiting.id, waiting.token_nonce
        ),
        ("subscriptions.resend", "token"): tokens.sign(
            Purpose.CONFIRM, waiting.id, waiting.token_nonce
        ),
        ("subscriptions.unsubscribe", "token"): tokens.sign(Purpose.UNSUBSCRIBE, reader.id),
        ("subscriptions.erase", "token"): tokens.sign(Purpose.ERASE, reader.id, reader.token_nonce),
        **{
            (endpoint, "token"): tokens.sign(Purpose.MANAGE, reader.id)
            for endpoint in (
                "subscriptions.manage",
                "subscriptions.download",
                "subscriptions.request_erasure",
                "subscriptions.renew_manage_link",
            )
        },
        ("digests.view", "token"): path_of(view_url(digest_id, ["asie"], "fr")).rsplit("/")[-1],
        ("static", "filename"): "site.css",
        # An article link of a letter, without its mint time: followed, never counted.
        ("clicks.follow", "ref"): sign_ref(ClickRef(digest_id, first_article, "asie")),
        **{
            (rule.endpoint, "region"): "asie"
            for rule in app.url_map.iter_rules()
            if "region" in rule.arguments
        },
        **{
            (rule.endpoint, "digest_id"): digest_id
            for rule in app.url_map.iter_rules()
            if "digest_id" in rule.arguments
        },
        **{
            (rule.endpoint, name): first_article
            for rule in app.url_map.iter_rules()
            for name in rule.arguments
            if name in {"article_id", "import_id", "feed_id"}
        },
        **{
            (rule.endpoint, "reader_id"): reader.id
            for rule in app.url_map.iter_rules()
            if "reader_id" in rule.arguments
        },
    }


def test_safe_methods_change_nothing_on_any_route(
    app: Flask, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    values = link_values(app)
    log_in_editor(client)
    token = issue_token("chef@revue-internationale.example", name="walk")
    client.environ_base["REMOTE_ADDR"] = "127.0.0.1"
    before = snapshot()
    answered = []
    for rule, url in urls_for_every_rule(app, values):
        for method in SAFE:
            headers = {"Authorization": f"Bearer {token}"} if rule.rule.startswith("/api") else {}
            response = client.open(url, method=method, headers=headers)
            response.close()
            assert response.status_code < 500, (method, url, response.status_code)
            answered.append((method, rule.rule, response.status_code))
    assert snapshot() == before
    assert smtp_sink.messages == []
    # The walk reached the pages behind the links (not a 400 for a bad link, nor a login page).
    reached = {(m, r) for m, r, status in answered if status == 200}
    for rule in ("/confirm/<token>", "/unsubscribe/<token>", "/erase/<token>", "/manage/<token>"):
        assert {("GET", rule), ("HEAD", rule)} <= reached, rule
    assert ("GET", "/admin/") in reached
    assert ("HEAD", "/api/v1/digests/<int:digest_id>") in reached


# The site's subscription block, and the API's description.
PUBLIC_API = {"api.create_subscription", "api.openapi_document", "api.openapi_page"}


def test_without_credentials_editors_pages_send_to_login_and_the_api_answers_401(
    app: Flask, client: FlaskClient
) -> None:
    values = link_values(app)
    for rule, url in urls_for_every_rule(app, values):
        methods = {"GET", "HEAD"} & set(rule.methods or ())
        for method in methods:
            response = client.open(url, method=method)
            response.close()
            if rule.rule.startswith("/admin") and rule.endpoint != "admin.login":
                assert response.status_code == 302, (method, url)
                assert urlsplit(response.location).path == "/admin/login"
            elif rule.rule.startswith("/api/v1") and rule.endpoint not in PUBLIC_API:
                assert response.status_code == 401, (method, url)
                assert method == "HEAD" or response.get_json()["error"] == "unauthorized"
