"""`newsletter doctor` against a real DNS server, a real SMTP server and the site over HTTP."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask

from newsletter.doctor.dkim import txt_value
from tests.doctor.conftest import DOMAIN, SELECTOR
from tests.doctor.dnsserver import DnsServer
from tests.support.smtp import SmtpSink

CHECKS = [
    "From address",
    "DKIM domain",
    "DKIM key",
    "DKIM record",
    "SPF",
    "DMARC",
    "BASE_URL",
    "SMTP relay",
    "SMTP MAIL FROM",
    "List-Unsubscribe",
]


def run_doctor(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["doctor", *args])


def lines(result: Result) -> list[str]:
    return result.output.strip().splitlines()


def verdicts(result: Result) -> dict[str, str]:
    """{check name: verdict} from the command's lines (the last line is the summary)."""
    found = {}
    for line in lines(result)[:-1]:
        verdict, rest = line.split(None, 1)
        found[rest.split(":", 1)[0]] = verdict
    return found


def failures(result: Result) -> list[str]:
    return [line for line in lines(result) if line.startswith("FAIL")]


def test_a_good_zone_passes_every_check(
    app: Flask, live_url: str, dns_server: DnsServer, smtp_sink: SmtpSink
) -> None:
    result = run_doctor(app)

    assert result.exit_code == 0, result.output
    assert verdicts(result) == dict.fromkeys(CHECKS, "ok")
    assert lines(result)[-1] == "No check failed, 0 warning(s)."
    # The doctor asked our server, and the relay got no message.
    assert f"{SELECTOR}._domainkey.{DOMAIN}" in dns_server.questions
    assert f"_dmarc.{DOMAIN}" in dns_server.questions
    assert smtp_sink.messages == []


def test_the_doctor_prints_its_verdicts_and_no_request_log_between_them(
    app: Flask, live_url: str, dns_server: DnsServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    result = run_doctor(app)

    assert result.exit_code == 0, result.output
    assert [r.getMessage() for r in caplog.records if r.name.startswith("httpx")] == []
    assert "/unsubscribe/" not in result.output.replace("/unsubscribe/...", "")


def test_the_dkim_record_to_publish_is_printed_and_passes_once_published(
    app: Flask, live_url: str, dns_server: DnsServer
) -> None:
    del dns_server.zone[f"{SELECTOR}._domainkey.{DOMAIN}"]

    before = run_doctor(app)

    assert before.exit_code == 1
    [key_line] = [line for line in lines(before) if "DKIM key:" in line]
    assert key_line.startswith("ok ")
    name, _, value = key_line.split("publish ", 1)[1].partition(" TXT ")
    assert name == f"{SELECTOR}._domainkey.{DOMAIN}"
    assert failures(before) == [
        f"FAIL     DKIM record: no DKIM key at {name}: receivers cannot verify our mail; "
        f"fix: publish {name} TXT {value}"
    ]

    dns_server.zone[name] = [value.strip('"')]
    after = run_doctor(app)

    assert after.exit_code == 0, after.output
    assert verdicts(after)["DKIM record"] == "ok"


def test_a_zone_missing_dmarc_names_it_in_one_line(
    app: Flask, live_url: str, dns_server: DnsServer
) -> None:
    del dns_server.zone[f"_dmarc.{DOMAIN}"]

    result = run_doctor(app)

    assert result.exit_code == 1
    assert failures(result) == [
        f"FAIL     DMARC: no DMARC record at _dmarc.{DOMAIN}; "
        f'fix: publish _dmarc.{DOMAIN} TXT "v=DMARC1; p=none; rua=mailto:dmarc@{DOMAIN}"'
    ]
    assert lines(result)[-1] == "1 failed (DMARC), 0 warning(s)"


def test_a_wrong_dkim_record_names_it_in_one_line(
    app: Flask, live_url: str, dns_server: DnsServer, other_key: str
) -> None:
    dns_server.zone[f"{SELECTOR}._domainkey.{DOMAIN}"] = [txt_value(other_key)]

    result = run_doctor(app)

    assert result.exit_code == 1
    [line] = failures(result)
    assert line.startswith(
        f"FAIL     DKIM record: the key at {SELECTOR}._domainkey.{DOMAIN} is not our key's "
        "public half: signatures fail; fix: publish "
    )


class TestAFromDomainOtherThanTheDkimDomain:
    @pytest.fixture
    def app_overrides(self, app_overrides: dict[str, object]) -> dict[str, object]:
        return {**app_overrides, "DKIM_DOMAIN": "mailer.example"}

    def test_is_named_in_one_line(
        self, app: Flask, live_url: str, dns_server: DnsServer, dkim_key: tuple[Path, str]
    ) -> None:
        dns_server.zone[f"{SELECTOR}._domainkey.mailer.example"] = [txt_value(dkim_key[1])]

        result = run_doctor(app)

        assert result.exit_code == 1
        assert failures(result) == [
            f"FAIL     DKIM domain: DKIM signs as d=mailer.example but mail is From {DOMAIN}: "
            f"DMARC fails on DKIM; fix: set DKIM_DOMAIN to {DOMAIN} (or a name under it), "
            "or change MAIL_FROM"
        ]


def test_three_problems_at_once_are_three_lines(
    app: Flask, live_url: str, dns_server: DnsServer, other_key: str
) -> None:
    app.config["DKIM_DOMAIN"] = "mailer.example"
    dns_server.zone[f"{SELECTOR}._domainkey.mailer.example"] = [txt_value(other_key)]
    del dns_server.zone[f"_dmarc.{DOMAIN}"]

    result = run_doctor(app)

    assert result.exit_code == 1
    assert [line.split(":")[0] for line in failures(result)] == [
        "FAIL     DKIM domain",
        "FAIL     DKIM record",
        "FAIL     DMARC",
    ]
    assert lines(result)[-1] == "3 failed (DKIM domain, DKIM record, DMARC), 0 warning(s)"


def test_a_subdomain_signed_by_its_parent_is_aligned(
    app: Flask, live_url: str, dns_server: DnsServer, dkim_key: tuple[Path, str]
) -> None:
    """From lettre.revue.example, d=revue.example: DMARC's relaxed alignment accepts it, and the
    DMARC record is found at the parent, as receivers look it up."""
    app.config["MAIL_FROM"] = f"La Revue <newsletter@lettre.{DOMAIN}>"
    app.config["DKIM_DOMAIN"] = DOMAIN
    dns_server.zone[f"lettre.{DOMAIN}"] = ["v=spf1 include:_spf.relay.example ~all"]

    result = run_doctor(app)

    assert result.exit_code == 0, result.output
    assert verdicts(result) == dict.fromkeys(CHECKS, "ok")
    assert "DMARC: _dmarc.revue.example: p=quarantine" in result.output


def test_two_names_of_one_organisation_are_aligned(
    app: Flask, live_url: str, dns_server: DnsServer, dkim_key: tuple[Path, str]
) -> None:
    """From lettre.revue.example, d=mail.revue.example: neither is within the other, but both
    belong to revue.example, the organisational domain: relaxed alignment accepts it."""
    app.config["MAIL_FROM"] = f"La Revue <newsletter@lettre.{DOMAIN}>"
    app.config["DKIM_DOMAIN"] = f"mail.{DOMAIN}"
    dns_server.zone[f"lettre.{DOMAIN}"] = ["v=spf1 include:_spf.relay.example ~all"]
    dns_server.zone[f"{SELECTOR}._domainkey.mail.{DOMAIN}"] = [txt_value(dkim_key[1])]

    result = run_doctor(app)

    assert result.exit_code == 0, result.output
    assert verdicts(result) == dict.fromkeys(CHECKS, "ok")
    assert f"d=mail.{DOMAIN} aligns with From lettre.{DOMAIN}" in result.output


def test_the_dmarc_record_of_a_public_suffix_is_not_ours(
    app: Flask, live_url: str, dns_server: DnsServer, dkim_key: tuple[Path, str]
) -> None:
    """From lettre.revue.co.uk: receivers read _dmarc.lettre.revue.co.uk, then the organisational
    domain's _dmarc.revue.co.uk; a record at _dmarc.co.uk, a public suffix, is nobody's."""
    sender = "lettre.revue.co.uk"
    app.config["MAIL_FROM"] = f"La Revue <newsletter@{sender}>"
    app.config["DKIM_DOMAIN"] = "revue.co.uk"
    dns_server.zone[sender] = ["v=spf1 include:_spf.relay.example -all"]
    dns_server.zone[f"{SELECTOR}._domainkey.revue.co.uk"] = [txt_value(dkim_key[1])]
    dns_server.zone["_dmarc.co.uk"] = ["v=DMARC1; p=reject"]

    result = run_doctor(app)

    assert verdicts(result)["DKIM domain"] == "ok"
    assert failures(result) == [
        f"FAIL     DMARC: no DMARC record at _dmarc.{sender}; "
        f'fix: publish _dmarc.{sender} TXT "v=DMARC1; p=none; rua=mailto:dmarc@{sender}"'
    ]
    assert "_dmarc.revue.co.uk" in dns_server.questions
    assert "_dmarc.co.uk" not in dns_server.questions

    dns_server.zone["_dmarc.revue.co.uk"] = ["v=DMARC1; p=quarantine"]
    again = run_doctor(app)
    assert again.exit_code == 0, again.output
    assert "DMARC: _dmarc.revue.co.uk: p=quarantine" in again.output


@pytest.mark.parametrize(
    ("records", "verdict", "said"),
    [
        (["v=DMARC1; p=none"], "warning", "p=none, monitoring only"),
        (["v=DMARC1; rua=mailto:x@revue.example"], "FAIL", "has no valid p= policy"),
        (["v=DMARC1; p=reject", "v=DMARC1; p=none"], "FAIL", "2 DMARC records"),
    ],
)
def test_a_weak_or_broken_dmarc_record_is_said(
    app: Flask, live_url: str, dns_server: DnsServer, records: list[str], verdict: str, said: str
) -> None:
    dns_server.zone[f"_dmarc.{DOMAIN}"] = records

    result = run_doctor(app)

    assert verdicts(result)["DMARC"] == verdict
    assert said in result.output
    assert result.exit_code == (1 if verdict == "FAIL" else 0)


@pytest.mark.parametrize(
    ("records", "verdict", "said"),
    [
        (["google-site-verification=abc"], "FAIL", "no SPF record (TXT v=spf1) at revue.example"),
        (["v=spf1 a mx", "v=spf1 -all"], "FAIL", "2 SPF records"),
        (["v=spf1 +all"], "FAIL", "anyone may send as us"),
        (["v=spf1 ip4:192.0.2.1"], "warning", "no 'all' at the end"),
    ],
)
def test_a_missing_or_loose_spf_record_is_said(
    app: Flask, live_url: str, dns_server: DnsServer, records: list[str], verdict: str, said: str
) -> None:
    dns_server.zone[DOMAIN] = records

    result = run_doctor(app)

    assert verdicts(result)["SPF"] == verdict
    assert said in result.output
    if "no SPF record" in said:
        assert f'fix: publish {DOMAIN} TXT "v=spf1 include:' in result.output


def test_json_output_lists_every_check(app: Flask, live_url: str, dns_server: DnsServer) -> None:
    del dns_server.zone[f"_dmarc.{DOMAIN}"]

    result = run_doctor(app, "--json")

    assert result.exit_code == 1
    rows = json.loads(result.output)
    assert [row["check"] for row in rows] == CHECKS
    [dmarc] = [row for row in rows if row["verdict"] == "FAIL"]
    assert dmarc["check"] == "DMARC" and dmarc["fix"].startswith("publish _dmarc.")


def test_a_key_file_that_is_no_rsa_key_fails(app: Flask, live_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
    app.config["DKIM_PRIVATE_KEY_PATH"] = str(bad)

    result = run_doctor(app)

    assert verdicts(result)["DKIM key"] == "FAIL"
    assert f"DKIM key: {bad} is not a usable private key" in result.output
    # The record cannot be compared with a key we cannot read: said, not failed twice.
    assert verdicts(result)["DKIM record"] == "warning"
    assert result.exit_code == 1
