"""The mail port: one sender-domain rule, one place that speaks SMTP, editors' tests through it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from newsletter.digests.compose import SenderSettings
from newsletter.digests.editions import create_special
from newsletter.digests.preview import send_test
from newsletter.ingest.feeds import ingest_file
from newsletter.mail.domain import sender_domain
from newsletter.mail.message import build_message
from newsletter.mail.render import RenderedEmail
from newsletter.mail.smtp import LoginRefused, PermanentFailure, SmtpSender, TemporaryFailure
from tests.conftest import free_port
from tests.digests.conftest import SAMPLE_FEED, SAMPLE_SINCE, SAMPLE_UNTIL
from tests.support.smtp import SmtpSink

PACKAGE = Path(__file__).resolve().parent.parent / "newsletter"
EDITOR = "chef@revue-internationale.example"


@pytest.mark.parametrize(
    ("mail_from", "domain"),
    [
        ("newsletter@revue-internationale.example", "revue-internationale.example"),
        (
            "La Revue Internationale <newsletter@revue-internationale.example>",
            "revue-internationale.example",
        ),
        ('"Revue, <la> @ Internationale" <n@revue.example>', "revue.example"),
        ("<n@revue.example>", "revue.example"),
        ("n@revue.example (la rédaction)", "revue.example"),
        ("  La Revue <n@revue.example>  ", "revue.example"),
        ("n@revue.example   ", "revue.example"),
        ('"a@b"@revue.example', "revue.example"),
        ('La Revue <"rédaction@siège"@revue.example>', "revue.example"),
        ("n@Revue.EXAMPLE", "revue.example"),
        ("n@revue.example.", "revue.example"),
        ("La Revue <n@exämple.org>", "xn--exmple-cua.org"),
        ("rédaction@Straße.de", "xn--strae-oqa.de"),
        ("n@xn--exmple-cua.org", "xn--exmple-cua.org"),
        ("n@[192.0.2.1]", "[192.0.2.1]"),
        ("n@localhost", "localhost"),
        ("n@intranet", "intranet"),
    ],
)
def test_the_sender_domain_is_the_ascii_domain_of_the_from_address(
    mail_from: str, domain: str
) -> None:
    assert sender_domain(mail_from) == domain


@pytest.mark.parametrize(
    "mail_from", ["", "   ", "La Revue", "n@", "La Revue <n@>", "n@-bad-.org", "n@re_vue.org"]
)
def test_a_from_without_a_usable_domain_gives_localhost(mail_from: str) -> None:
    assert sender_domain(mail_from) == "localhost"


def test_confirmations_and_digests_name_the_same_domain() -> None:
    mail_from = 'La Revue "Internationale" <rédaction@Exämple.org >'
    rendered = RenderedEmail(subject="Sujet", text="texte", html="<p>texte</p>")

    message = build_message(rendered, to="lecteur@example.org", mail_from=mail_from)
    settings = SenderSettings(mail_from, "", "http://127.0.0.1", "Europe/Paris", "", None)

    assert message["Message-ID"].endswith("@xn--exmple-cua.org>")
    assert settings.domain == "xn--exmple-cua.org"


def _smtp_importers() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.parent == PACKAGE / "mail":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            if any(name.split(".")[0] in {"smtplib", "aiosmtplib"} for name in names):
                found.append(str(path.relative_to(PACKAGE.parent)))
    return found


def test_no_module_outside_the_mail_package_speaks_smtp() -> None:
    assert _smtp_importers() == []


def test_raw_bytes_reach_the_relay_with_the_envelope_given(smtp_sink: SmtpSink) -> None:
    data = b"From: n@revue.example\r\nTo: chef@revue.example\r\nSubject: brut\r\n\r\ncorps\r\n"

    SmtpSender(smtp_sink.url).send_raw("retour@revue.example", "chef@revue.example", data)

    [received] = smtp_sink.to("chef@revue.example")
    assert received.mail_from == "retour@revue.example"
    assert received.message["Subject"] == "brut"


def test_raw_bytes_to_a_non_ascii_mailbox_go_out_with_smtputf8(smtp_sink: SmtpSink) -> None:
    data = "Subject: rédaction\r\n\r\ncorps\r\n".encode()

    SmtpSender(smtp_sink.url).send_raw("n@revue.example", "rédaction@revue.example", data)

    assert len(smtp_sink.to("rédaction@revue.example")) == 1


@pytest.mark.parametrize(
    ("reply", "failure"),
    [("550 5.1.1 no such user", PermanentFailure), ("451 4.3.0 later", TemporaryFailure)],
)
def test_a_refused_raw_message_raises_the_relays_reply(
    smtp_sink: SmtpSink, reply: str, failure: type[Exception]
) -> None:
    smtp_sink.rcpt_policy = lambda address: reply

    with pytest.raises(failure, match=reply.split(" ", 1)[1]):
        SmtpSender(smtp_sink.url).send_raw("n@revue.example", "chef@revue.example", b"\r\n")

    assert smtp_sink.messages == []


class TestEditorsTestSend:
    @pytest.fixture
    def app_overrides(self, smtp_sink: SmtpSink) -> dict[str, Any]:
        return {"SMTP_URL": smtp_sink.url, "SEND_RATE_PER_SECOND": 0.0}

    @pytest.fixture
    def digest_id(self, app: Flask) -> int:
        ingest_file(SAMPLE_FEED)
        return create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL).digest.id

    def _send(self, digest_id: int) -> bool:
        return send_test(address=EDITOR, regions=["afrique"], language="fr", digest_id=digest_id)

    def test_goes_through_the_mail_port_with_the_from_address_as_envelope(
        self, app: Flask, smtp_sink: SmtpSink, digest_id: int
    ) -> None:
        assert self._send(digest_id) is True

        [received] = smtp_sink.to(EDITOR)
        assert received.mail_from == "newsletter@revue-internationale.example"
        assert received.message["Subject"].startswith("[Test] Afrique")
        assert received.message["Message-ID"].endswith("@revue-internationale.example>")

    @pytest.mark.parametrize("reply", ["550 5.1.1 no such user", "452 4.2.2 mailbox full"])
    def test_a_refusal_is_one_clear_line_and_retried(
        self, app: Flask, smtp_sink: SmtpSink, digest_id: int, reply: str
    ) -> None:
        smtp_sink.rcpt_policy = lambda address: reply

        with pytest.raises(TemporaryFailure) as raised:
            self._send(digest_id)

        assert str(raised.value) == f"test digest to {EDITOR} not sent: {reply}"
        assert smtp_sink.messages == []

    def test_an_unreachable_relay_is_retried(self, app: Flask, digest_id: int) -> None:
        app.config["SMTP_URL"] = "smtp://127.0.0.1:9"

        with pytest.raises(
            TemporaryFailure, match=f"test digest to {EDITOR} not sent: cannot reach"
        ):
            self._send(digest_id)


def test_a_refused_login_is_not_retried(smtp_sink_with_login: SmtpSink) -> None:
    sender = SmtpSender(f"smtp://editor:wrong@127.0.0.1:{smtp_sink_with_login.port}")

    with pytest.raises(LoginRefused):
        sender.send_raw("n@revue.example", EDITOR, b"\r\n")


@pytest.fixture
def smtp_sink_with_login() -> Iterator[SmtpSink]:
    sink = SmtpSink(port=free_port())
    sink.start(users={"editor": "right"})
    yield sink
    sink.stop()
