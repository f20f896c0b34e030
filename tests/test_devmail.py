"""The development mailbox: an SMTP server that keeps mail, and pages to read it."""

from __future__ import annotations

import html
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from newsletter.app import create_app
from newsletter.devmail import server
from newsletter.mail.message import build_message
from newsletter.mail.render import RenderedEmail
from newsletter.mail.smtp import SmtpSender
from tests.conftest import _overrides, free_port
from tests.support.browser import csp_violations


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
    assert 'iframe class="mail-html" sandbox="allow-same-origin"' in page
    html = client.get(f"/dev/mailbox/{key}/html")
    assert "<b>confirmez</b>" in html.get_data(as_text=True)
    # The HTML part runs no script and sends no form (same origin, so the page can size it).
    policy = html.headers["Content-Security-Policy"]
    assert policy.startswith("sandbox allow-same-origin;")
    assert "allow-scripts" not in policy and "allow-forms" not in policy
    assert "script-src" not in policy and "default-src 'none'" in policy


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


# A digest's headers as compose writes them: List-Unsubscribe on one line longer than 78
# characters (mail clients do not decode encoded-words in it), a folded encoded Subject.
UNSUBSCRIBE = "<https://lettre.example/unsubscribe/" + "eyJzaWQiOjF9.aw6EOA." + "x" * 90 + ">"
RECEIVED = (
    "From: La Revue Internationale <newsletter@revue-internationale.example>\r\n"
    "To: lectrice@example.org\r\n"
    "Subject: =?utf-8?q?R=C3=A9gions_?=\r\n =?utf-8?q?d=C3=A9tail?=\r\n"
    f"List-Unsubscribe: {UNSUBSCRIBE}\r\n"
    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Bonjour, Zoé.\r\n"
).encode()


def first_key(client: FlaskClient) -> str:
    listing = client.get("/dev/mailbox/").get_data(as_text=True)
    return listing.split('href="/dev/mailbox/')[1].split('"')[0]


def test_the_raw_view_shows_the_headers_as_they_were_received(dev_app: Flask) -> None:
    sender = SmtpSender(dev_app.config["SMTP_URL"])
    sender.send_raw("newsletter@revue-internationale.example", "lectrice@example.org", RECEIVED)
    client = dev_app.test_client()

    page = client.get(f"/dev/mailbox/{first_key(client)}/raw")

    assert page.status_code == 200
    shown = html.unescape(page.get_data(as_text=True).split('<pre class="mail-raw">')[1])
    shown = shown.split("</pre>")[0]
    assert shown == RECEIVED.decode().replace("\r\n", "\n")
    assert f"List-Unsubscribe: {UNSUBSCRIBE}\n" in shown  # one line, not an encoded word
    assert "X-Envelope" not in shown  # what the mailbox adds is not what was received


def test_the_raw_view_of_an_unknown_message_is_not_found(dev_app: Flask) -> None:
    assert dev_app.test_client().get("/dev/mailbox/nope/raw").status_code == 404


@pytest.fixture
def dev_live_url(dev_app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, dev_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.mark.browser
def test_the_message_page_fits_the_html_in_its_frame_and_wraps_long_lines(
    dev_app: Flask, dev_live_url: str, new_page: Callable[..., Any], console: list[str]
) -> None:
    tall = "".join(f"<p>Paragraphe {n} de la lettre.</p>" for n in range(60))
    rendered = RenderedEmail(
        subject="Une longue lettre",
        text="Un lien : https://lettre.example/" + "x" * 400,
        html=f"<div>{tall}</div>",
    )
    message = build_message(
        rendered,
        to="lectrice@example.org",
        mail_from=dev_app.config["MAIL_FROM"],
        headers={"List-Unsubscribe": UNSUBSCRIBE},
    )
    SmtpSender(dev_app.config["SMTP_URL"]).send(message)
    key = first_key(dev_app.test_client())
    page = new_page(origin=dev_live_url, viewport={"width": 800, "height": 600})

    page.goto(f"{dev_live_url}/dev/mailbox/{key}")
    frame = page.locator("iframe.mail-html")
    content = page.frame_locator("iframe.mail-html").locator("html")
    content.wait_for()
    page.wait_for_function("() => document.querySelector('iframe.mail-html').clientHeight > 600")

    frame_height = frame.evaluate("f => f.getBoundingClientRect().height")
    content_height = content.evaluate("e => e.getBoundingClientRect().height")
    assert abs(frame_height - content_height) <= 2, (frame_height, content_height)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.goto(f"{dev_live_url}/dev/mailbox/{key}/raw")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    raw = page.locator("pre.mail-raw")
    assert "List-Unsubscribe: " in raw.inner_text()
    assert raw.evaluate("pre => pre.scrollWidth <= pre.clientWidth")  # wrapped, not cut
    page.close()
    assert csp_violations(console) == []
