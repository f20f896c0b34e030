"""The OpenAPI document describes every route of /api/v1, from the schemas that check requests."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from newsletter.admin.accounts import issue_token, save_editor

# The document and its page describe the API; they are no part of it.
DESCRIBING = {"api.openapi_document", "api.openapi_page"}
SAFE = {"HEAD", "OPTIONS"}


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


@pytest.fixture
def auth(app: Flask) -> dict[str, str]:
    save_editor("editor@example.com", "a long password")
    return {"Authorization": f"Bearer {issue_token('editor@example.com', name='tests')}"}


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_every_api_route_is_in_the_document_with_its_methods(
    app: Flask, document: dict[str, Any]
) -> None:
    routes = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint not in DESCRIBING
    ]

    assert len(routes) >= 13
    for rule in routes:
        path = _openapi_path(rule.rule)
        assert path in document["paths"], f"{rule.rule} is not documented"
        methods = {m.lower() for m in (rule.methods or set()) - SAFE}
        assert methods <= set(document["paths"][path]), (rule.rule, methods)
    for path in ("/api/v1/digests/{digest_id}/pause", "/api/v1/digests/{digest_id}/cancel"):
        assert document["paths"][path]["post"]["responses"]["409"]


def test_every_operation_needs_a_bearer_token_but_the_subscription(
    document: dict[str, Any],
) -> None:
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An editor's API token.",
    }
    assert document["security"] == [{"bearer": []}]
    public = [
        (method, path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if operation.get("security") == []
    ]
    assert public == [("post", "/api/v1/subscriptions")]


def test_the_documented_limits_are_the_ones_requests_are_held_to(
    client: FlaskClient, document: dict[str, Any], auth: dict[str, str]
) -> None:
    schemas = document["components"]["schemas"]
    title_max = schemas["ArticleIn"]["properties"]["title"]["maxLength"]
    limit = next(
        p
        for p in document["paths"]["/api/v1/articles"]["get"]["parameters"]
        if p["name"] == "limit"
    )
    article = {"url": "https://www.revue-internationale.example/a/", "title": "t" * title_max}

    fits = client.post("/api/v1/articles", json=article, headers=auth)
    too_long = client.post("/api/v1/articles", json={**article, "title": "t" * (title_max + 1)},
                           headers=auth)  # fmt: skip
    most = client.get(f"/api/v1/articles?limit={limit['schema']['maximum']}", headers=auth)
    beyond = client.get(f"/api/v1/articles?limit={limit['schema']['maximum'] + 1}", headers=auth)

    assert fits.status_code == 201
    assert too_long.status_code == 422
    assert too_long.get_json()["errors"] == {"title": [f"at most {title_max} characters"]}
    assert most.status_code == 200
    assert beyond.status_code == 422 and list(beyond.get_json()["errors"]) == ["limit"]


def test_the_documents_page_lists_every_operation_without_inline_script_or_style(
    client: FlaskClient, document: dict[str, Any]
) -> None:
    response = client.get("/api/v1/docs")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    for path, operations in document["paths"].items():
        for method in operations:
            assert f"<code>{method.upper()} {path}</code>" in page
    assert 'href="/api/v1/openapi.json"' in page
    assert "<script" not in page and "<style" not in page and "style=" not in page
    assert "Jeton d’API requis" in page and "Public." in page
