"""The doctor's settings: DKIM_DOMAIN signs the digests, DOCTOR_NAMESERVERS names DNS servers."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import dkim
import pytest
from flask import Flask

from newsletter.config import ConfigError, load_config
from newsletter.digests.compose import DigestComposer
from newsletter.digests.editions import create_special
from newsletter.doctor.dkim import txt_value
from newsletter.doctor.policy import check_spf
from newsletter.doctor.records import TxtLookup
from newsletter.ingest.feeds import ingest_file
from tests.digests.conftest import SAMPLE_FEED, SAMPLE_SINCE, SAMPLE_UNTIL
from tests.doctor.conftest import DOMAIN, SELECTOR
from tests.doctor.dnsserver import DnsServer


def settings(tmp_path: Path, **environ: str) -> dict[str, Any]:
    return load_config(environ=environ, instance_path=tmp_path / "instance")


@pytest.mark.parametrize(
    ("raw", "servers"),
    [
        ("", []),
        ("127.0.0.1:5353", [("127.0.0.1", 5353)]),
        ("192.0.2.53, ::1, [::1]:5300", [("192.0.2.53", 53), ("::1", 53), ("::1", 5300)]),
    ],
)
def test_doctor_nameservers_are_addresses_with_an_optional_port(
    tmp_path: Path, raw: str, servers: list[tuple[str, int]]
) -> None:
    assert settings(tmp_path, DOCTOR_NAMESERVERS=raw)["DOCTOR_NAMESERVERS"] == servers


@pytest.mark.parametrize("raw", ["dns.example", "127.0.0.1:0", "127.0.0.1:x"])
def test_a_bad_nameserver_is_refused_at_start(tmp_path: Path, raw: str) -> None:
    with pytest.raises(ConfigError, match="^DOCTOR_NAMESERVERS: "):
        settings(tmp_path, DOCTOR_NAMESERVERS=raw)


def test_a_dkim_domain_is_a_dns_name(tmp_path: Path) -> None:
    assert settings(tmp_path, DKIM_DOMAIN="Revue.Example.")["DKIM_DOMAIN"] == "revue.example"
    with pytest.raises(ConfigError, match="^DKIM_DOMAIN: expected a domain name"):
        settings(tmp_path, DKIM_DOMAIN="revue example")


def test_dns_that_does_not_answer_is_no_verdict(tmp_path: Path) -> None:
    """A silent server: the lookup says DNS did not answer, it does not say 'no record'."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        lookup = TxtLookup([("127.0.0.1", silent.getsockname()[1])], timeout=0.5)

        check = check_spf(DOMAIN, lookup)

    assert check.verdict == "warning"
    assert check.detail.startswith("DNS did not answer")


class TestDigestsSignedForTheDkimDomain:
    @pytest.fixture
    def app_overrides(self, app_overrides: dict[str, Any]) -> dict[str, Any]:
        return {
            **app_overrides,
            "MAIL_FROM": f"La Revue <newsletter@lettre.{DOMAIN}>",
            "DKIM_DOMAIN": DOMAIN,
        }

    def test_carry_its_d_and_verify_against_the_published_key(
        self, app: Flask, dns_server: DnsServer, dkim_key: tuple[Path, str]
    ) -> None:
        ingest_file(SAMPLE_FEED)
        edition = create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL)
        composer = DigestComposer.load(edition.digest.id)
        body = composer.body_for(("afrique",), "fr")
        assert body is not None

        raw = composer.test_message_for(body, email="chef@revue.example")

        assert f"d={DOMAIN}; s={SELECTOR};" in raw.decode()
        lookup = TxtLookup([("127.0.0.1", dns_server.port)])
        assert dns_server.zone[f"{SELECTOR}._domainkey.{DOMAIN}"] == [txt_value(dkim_key[1])]

        def ask_our_dns(name: bytes, timeout: int = 5) -> bytes | None:
            records = lookup.txt(name.decode().rstrip("."))
            return records[0].encode() if records else None

        assert dkim.verify(raw, dnsfunc=ask_our_dns)
