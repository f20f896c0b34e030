"""Readers' tests: every app mails a real SMTP sink; helpers read what a reader would see."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.support.smtp import Received, SmtpSink

ALL_SLUGS = [
    "union-europeenne",
    "russie",
    "ameriques",
    "asie",
    "afrique",
    "moyen-orient",
    "monde-de-demain",
]


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink) -> dict[str, Any]:
    return {"SMTP_URL": smtp_sink.url}


def csrf_token(client: FlaskClient, path: str = "/") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def form_data(token: str, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "csrf_token": token,
        "email": "lea@example.org",
        "name": "Léa",
        "regions": ["asie", "afrique"],
        "language": "fr",
        "website": "",
    }
    data.update(fields)
    return data


def submit(client: FlaskClient, **fields: Any) -> Any:
    return client.post("/", data=form_data(csrf_token(client), **fields))


def link_in(message: Received, path: str) -> str:
    text = message.message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(rf"https?://\S+{path}/\S+", text)
    assert match, f"no {path} link in:\n{text}"
    return match.group(0)


def page_text(response: Any) -> str:
    """The page as a reader reads it: entities decoded."""
    return html.unescape(response.get_data(as_text=True))
