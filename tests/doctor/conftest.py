"""A DNS server with the zone of a well-configured sender, a DKIM key, the app pointed at them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from newsletter.doctor.dkim import public_key, txt_value
from tests.doctor.dnsserver import DnsServer
from tests.support.smtp import SmtpSink

DOMAIN = "revue.example"
SELECTOR = "lettre2026"
MAIL_FROM = f"La Revue <newsletter@{DOMAIN}>"


def make_key(path: Path, bits: int = 2048) -> str:
    """A PEM RSA private key written to `path`; its public half as DKIM's p=."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.write_bytes(pem)
    return public_key(pem)[0]


@pytest.fixture(scope="session")
def dkim_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("dkim") / "dkim.pem"
    return path, make_key(path)


@pytest.fixture(scope="session")
def other_key(tmp_path_factory: pytest.TempPathFactory) -> str:
    return make_key(tmp_path_factory.mktemp("other") / "other.pem")


def good_zone(p: str) -> dict[str, list[str]]:
    return {
        f"{SELECTOR}._domainkey.{DOMAIN}": [txt_value(p)],
        DOMAIN: ["v=spf1 include:_spf.relay.example -all", "google-site-verification=abc"],
        f"_dmarc.{DOMAIN}": [f"v=DMARC1; p=quarantine; rua=mailto:dmarc@{DOMAIN}"],
    }


@pytest.fixture
def dns_server(dkim_key: tuple[Path, str]) -> Iterator[DnsServer]:
    server = DnsServer(zone=good_zone(dkim_key[1]))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_overrides(
    dns_server: DnsServer, dkim_key: tuple[Path, str], smtp_sink: SmtpSink, live_port: int
) -> dict[str, Any]:
    return {
        "MAIL_FROM": MAIL_FROM,
        "DKIM_SELECTOR": SELECTOR,
        "DKIM_PRIVATE_KEY_PATH": str(dkim_key[0]),
        "DOCTOR_NAMESERVERS": dns_server.address,
        "SMTP_URL": smtp_sink.url,
        "BASE_URL": f"http://127.0.0.1:{live_port}",
    }
