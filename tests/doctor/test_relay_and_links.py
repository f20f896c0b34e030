"""The doctor's relay and link checks: a real SMTP server told what to refuse, the site served."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from click.testing import Result
from flask import Flask

from newsletter.app import create_app
from tests.conftest import free_port
from tests.support.smtp import SmtpSink


def doctor(app: Flask) -> dict[str, dict[str, str]]:
    """{check: row} from `doctor --json`."""
    result: Result = app.test_cli_runner().invoke(args=["doctor", "--json"])
    return {row["check"]: row for row in json.loads(result.output)}


def test_a_relay_that_does_not_answer_fails_the_relay_check(app: Flask, live_url: str) -> None:
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"

    rows = doctor(app)

    assert rows["SMTP relay"]["verdict"] == "FAIL"
    assert rows["SMTP relay"]["detail"].startswith("cannot reach 127.0.0.1:")
    assert "SMTP MAIL FROM" not in rows


def test_starttls_asked_of_a_relay_that_does_not_offer_it_fails(
    app: Flask, live_url: str, smtp_sink: SmtpSink
) -> None:
    app.config["SMTP_URL"] = f"{smtp_sink.url}?starttls=1"

    rows = doctor(app)

    assert rows["SMTP relay"]["verdict"] == "ok"
    assert rows["SMTP STARTTLS"] == {
        "check": "SMTP STARTTLS",
        "verdict": "FAIL",
        "detail": f"127.0.0.1:{smtp_sink.port} does not offer STARTTLS",
        "fix": "use smtps:// or a relay port that offers STARTTLS",
    }


@pytest.fixture
def relay_with_login() -> Iterator[SmtpSink]:
    sink = SmtpSink(port=free_port())
    sink.start(users={"lettre": "right"})
    yield sink
    sink.stop()


@pytest.mark.parametrize(("password", "verdict"), [("right", "ok"), ("wrong", "FAIL")])
def test_the_relay_login_is_tried_with_the_credentials_of_smtp_url(
    app: Flask, live_url: str, relay_with_login: SmtpSink, password: str, verdict: str
) -> None:
    app.config["SMTP_URL"] = f"smtp://lettre:{password}@127.0.0.1:{relay_with_login.port}"

    rows = doctor(app)

    assert rows["SMTP AUTH"]["verdict"] == verdict
    assert ("SMTP MAIL FROM" in rows) is (verdict == "ok")
    assert relay_with_login.messages == []


class _RefuseSenders:
    async def handle_MAIL(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        return "550 5.7.1 sender not allowed"


@pytest.fixture
def relay_refusing_senders() -> Iterator[int]:
    port = free_port()
    controller = Controller(_RefuseSenders(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port
    controller.stop()


def test_a_relay_that_refuses_our_sender_fails_mail_from(
    app: Flask, live_url: str, relay_refusing_senders: int
) -> None:
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{relay_refusing_senders}"
    app.config["SEND_RETURN_PATH"] = "rebonds@revue.example"

    rows = doctor(app)

    assert rows["SMTP MAIL FROM"]["verdict"] == "FAIL"
    assert rows["SMTP MAIL FROM"]["detail"] == "550 5.7.1 sender not allowed"


def test_a_site_that_does_not_answer_is_a_warning_not_a_failure(app: Flask) -> None:
    """No live server: the routes are checked, the request cannot be."""
    rows = doctor(app)

    assert rows["List-Unsubscribe"]["verdict"] == "warning"
    assert "is routed, but" in rows["List-Unsubscribe"]["detail"]


class TestASiteWithAnotherSecretKey:
    @pytest.fixture
    def doctor_app(self, app: Flask, app_overrides: dict[str, Any], tmp_path: Any) -> Flask:
        """The doctor run where SECRET_KEY differs from the site's at BASE_URL."""
        overrides = {
            **{k: v for k, v in app.config.items() if k in app_overrides},
            "NEWSLETTER_ENV": "testing",
            "DATABASE_URL": app.config["DATABASE_URL"],
            "SECRET_KEY": "another-key",
            "CHECK_DATABASE_AT_START": False,
        }
        return create_app(overrides, instance_path=tmp_path / "other")

    def test_fails_the_link_check(self, doctor_app: Flask, live_url: str) -> None:
        with doctor_app.app_context():
            rows = doctor(doctor_app)

        assert rows["List-Unsubscribe"]["verdict"] == "FAIL"
        assert "runs with another SECRET_KEY" in rows["List-Unsubscribe"]["detail"]
