"""The client's address is the TCP peer unless the peer is a configured trusted proxy.

Limits, the metrics allow-list and the stored consent evidence all use it; headers a client
sets (X-Forwarded-For, Forwarded, X-Real-IP) change nothing unless a trusted proxy sent them.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from newsletter.app import create_app
from newsletter.config import ConfigError
from newsletter.models import ConsentEvent, db
from tests.subscriptions.conftest import csrf_token, form_data
from tests.support.smtp import SmtpSink

SPOOFS = [
    {"X-Forwarded-For": "203.0.113.1"},
    {"Forwarded": "for=203.0.113.2"},
    {"X-Real-IP": "203.0.113.3"},
    {"X-Forwarded-For": "127.0.0.1, 203.0.113.4"},
    {"X-Forwarded-For": "garbage, , ::zz"},
]


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink, request: pytest.FixtureRequest) -> dict[str, Any]:
    extra = getattr(request, "param", {})
    return {"SMTP_URL": smtp_sink.url, "SUBSCRIBE_IP_LIMIT": "3 per minute", **extra}


def post_from(client: FlaskClient, peer: str, headers: dict[str, str], email: str) -> Any:
    client.environ_base["REMOTE_ADDR"] = peer
    token = csrf_token(client)
    return client.post("/", data=form_data(token, email=email), headers=headers)


def consent_ips() -> list[str | None]:
    db.session.remove()
    return list(db.session.execute(db.select(ConsentEvent.ip).order_by(ConsentEvent.id)).scalars())


def test_spoofed_forwarding_headers_neither_escape_the_ip_limit_nor_reach_the_consent_record(
    client: FlaskClient,
) -> None:
    statuses = [
        post_from(client, "198.51.100.7", spoof, f"reader{n}@example.org").status_code
        for n, spoof in enumerate(SPOOFS)
    ]
    assert statuses == [200, 200, 200, 429, 429]
    assert consent_ips() == ["198.51.100.7"] * 3


def test_spoofed_headers_do_not_open_the_metrics_allow_list(client: FlaskClient) -> None:
    client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    for spoof in SPOOFS[:3]:
        assert client.get("/metrics", headers={k: "127.0.0.1" for k in spoof}).status_code == 403
    client.environ_base["REMOTE_ADDR"] = "127.0.0.1"
    assert client.get("/metrics").status_code == 200


@pytest.mark.parametrize("app_overrides", [{"TRUSTED_PROXIES": "10.0.0.0/8"}], indirect=True)
def test_behind_a_trusted_proxy_the_address_it_saw_is_the_client(client: FlaskClient) -> None:
    proxy = "10.1.2.3"
    # The client wrote the leftmost value itself; the proxy appended the address it saw.
    assert post_from(client, proxy, {"X-Forwarded-For": "127.0.0.1, 203.0.113.9"}, "a@x.org")
    # A chain of two trusted proxies: the first untrusted hop from the right is the client.
    post_from(client, proxy, {"X-Forwarded-For": "203.0.113.8, 10.9.9.9"}, "b@x.org")
    # A peer outside the trusted networks is the client, whatever it claims.
    post_from(client, "198.51.100.7", {"X-Forwarded-For": "203.0.113.9"}, "c@x.org")
    assert consent_ips() == ["203.0.113.9", "203.0.113.8", "198.51.100.7"]


@pytest.mark.parametrize("app_overrides", [{"TRUSTED_PROXIES": "10.0.0.0/8"}], indirect=True)
def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(
    client: FlaskClient,
) -> None:
    def status(client_ip: str, n: int) -> int:
        headers = {"X-Forwarded-For": client_ip}
        return int(post_from(client, "10.0.0.2", headers, f"r{n}@example.org").status_code)

    first = [status("203.0.113.1", n) for n in range(4)]
    second = [status("203.0.113.2", n) for n in range(4, 8)]
    assert first == second == [200, 200, 200, 429]


@pytest.mark.parametrize("app_overrides", [{"TRUSTED_PROXIES": "1"}], indirect=True)
def test_a_hop_count_trusts_that_many_forwarded_values(client: FlaskClient) -> None:
    post_from(client, "10.0.0.2", {"X-Forwarded-For": "6.6.6.6, 203.0.113.5"}, "a@x.org")
    assert consent_ips() == ["203.0.113.5"]


@pytest.mark.parametrize("raw", ["not-a-network", "10.0.0.0/33", "1, 2"])
def test_a_bad_trusted_proxies_setting_stops_the_start_with_its_name(
    raw: str, tmp_path: Any
) -> None:
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        create_app(
            {"TRUSTED_PROXIES": raw, "CHECK_DATABASE_AT_START": False}, instance_path=tmp_path
        )


def test_no_trusted_proxy_is_the_default(app: Flask) -> None:
    assert app.config["TRUSTED_PROXIES"].none
