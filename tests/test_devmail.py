"""The development mailbox: an SMTP server that keeps mail, and pages to read it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from newsletter import create_app
from newsletter.devmail import server
from newsletter.mail.message import build_message
from newsletter.mail.render import RenderedEmail
from newsletter.mail.smtp import SmtpSender
from tests.conftest import _overrides, free_port


@pytest.fixture
def dev_app(migrated_urls: dict[str, str], tmp_path: Path) -> Iterator[Flask]:
    port = free_port()
    overrides = _overrides(
        migrated_urls["sqlite"],
        NEWSLETTER_ENV="development",
        DEV_MAILBOX_PORT=port,
        SMTP_URL=f"smtp://127.0.0.1:{port}",
        DEV_MAILBOX_DIR=str(tmp_path / "mailbox"),
    )
    app = create_app(overrides, instance_path=tmp_path)
    controller = server.start(app.config["DEV_MAILBOX_DIR"], port=port)
    yield app
    controller.stop()


def send_sample(app: Flask, **extra: Any) -> None:
    rendered = RenderedEmail(
        subject="Confirmez votre inscription",
        text="Bonjour, confirmez ici.",
        html="<p>Bonjour, <b>confirmez</b> ici.<script>alert(1)</script></p>",
    )
    message = build_message(rendered, to="lectrice@example.org", mail_from=app.config["MAIL_FROM"])
    SmtpSender(app.config["SMTP_URL"]).send(message)


def test_mail_sent_in_development_is_listed_and_readable(dev_app: Flask) -> None:
    send_sample(dev_app)
    client = dev_app.test_client()
    listing = client.get("/dev/mailbox/").get_data(as_text=True)
    assert "Confirmez votre inscription" in listing
    assert "lectrice@example.org" in listing
    key = listing.split('href="/dev/mailbox/')[1].split('"')[0]
    page = client.get(f"/dev/mailbox/{key}").get_data(as_text=True)
    assert "Bonjour, confirmez ici." in page  # the text part
    assert 'iframe class="mail-html" sandbox' in page
    html = client.get(f"/dev/mailbox/{key}/html")
    assert "<b>confirmez</b>" in html.get_data(as_text=True)
    # The HTML part runs with no script and no same-origin rights.
    assert html.headers["Content-Security-Policy"].startswith("sandbox")


def test_the_mailbox_can_be_emptied(dev_app: Flask) -> None:
    send_sample(dev_app)
    client = dev_app.test_client()
    page = client.get("/dev/mailbox/").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/dev/mailbox/clear", data={"csrf_token": token})
    assert "No message yet." in client.get("/dev/mailbox/").get_data(as_text=True)


def test_the_mailbox_does_not_exist_outside_development(
    migrated_urls: dict[str, str], tmp_path: Path
) -> None:
    overrides = _overrides(migrated_urls["sqlite"], NEWSLETTER_ENV="production")
    app = create_app(overrides, instance_path=tmp_path)
    assert app.test_client().get("/dev/mailbox/").status_code == 404
    result = app.test_cli_runner().invoke(args=["mailbox"])
    assert result.exit_code != 0
    assert "only when NEWSLETTER_ENV=development" in result.output
