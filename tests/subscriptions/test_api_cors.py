"""The subscription API is readable only from the configured origins."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.support.smtp import SmtpSink

SITE = "https://www.revue-internationale.example"


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink) -> dict[str, Any]:
    return {"SMTP_URL": smtp_sink.url, "CORS_ORIGINS": SITE}


def test_the_sites_own_origin_may_subscribe_from_the_browser(
    client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    preflight = client.options(
        "/api/v1/subscriptions",
        headers={
            "Origin": SITE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type",
        },
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == SITE
    response = client.post(
        "/api/v1/subscriptions",
        json={"email": "lea@example.org", "regions": ["asie"], "language": "fr"},
        headers={"Origin": SITE},
    )
    assert response.status_code == 202
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert smtp_sink.wait_for("lea@example.org")


def test_another_origin_gets_no_cors_permission(client: FlaskClient) -> None:
    preflight = client.options(
        "/api/v1/subscriptions",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_other_api_routes_get_no_cors_permission(client: FlaskClient) -> None:
    response = client.get("/api/v1/articles", headers={"Origin": SITE})
    assert "Access-Control-Allow-Origin" not in response.headers
