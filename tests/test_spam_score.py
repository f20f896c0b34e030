"""Every kind of email the service sends scores no positive SpamAssassin rule.

Each message goes through its real code path into a real SMTP server, DKIM-signed where the
service signs (digests), and the bytes that server received are scored by Debian's
`spamassassin` with its local rules only (`-L`: no DNS, so no URI blocklists, Razor or Pyzor).
Bayes is off: its points depend on what a filter has been trained on, not on what we send.
Rules the report shows as 0.0 (HTML_MESSAGE, NO_RELAYS: informational, 0.001 or less) pass.
Without `spamassassin` the test is skipped, and fails in CI (scripts/ensure-test-deps
installs it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from newsletter.digests.editions import create_special
from newsletter.digests.preview import send_test
from newsletter.ingest.feeds import ingest_file
from newsletter.models import Article, Region, Subscriber, SubscriberStatus, db
from newsletter.subscriptions import emails
from tests.conftest import IN_CI
from tests.digests.conftest import SAMPLE_FEED, SAMPLE_SINCE, SAMPLE_UNTIL
from tests.support.smtp import SmtpSink

SPAMASSASSIN = "spamassassin"
# Local tests only, nothing learnt nor remembered between runs: the same bytes, the same score.
SPAMASSASSIN_ARGS = [
    "--local",
    "--test-mode",
    "--nocreate-prefs",
    "--cf=use_bayes 0",
    "--cf=bayes_auto_learn 0",
]
# A line of the "Content analysis details" table: " 0.7 HTML_FONT_LOW_CONTRAST BODY: HTML...".
RULE_LINE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z][A-Z0-9_]+)\s+(\S.*)$")
EDITOR = "chef@revue-internationale.example"
PENDING, CONFIRMED = SubscriberStatus.PENDING, SubscriberStatus.CONFIRMED


@dataclass(frozen=True)
class Hit:
    points: float
    rule: str
    description: str

    def __str__(self) -> str:
        return f"{self.points:+.1f} {self.rule} ({self.description})"


@pytest.fixture
def spamassassin() -> str:
    """The spamassassin program; missing, the test skips here and fails in CI."""
    found = shutil.which(SPAMASSASSIN)
    if found is None:
        if IN_CI:
            pytest.fail("spamassassin is required in CI (apt-get install spamassassin)")
        pytest.skip("spamassassin is not installed (apt-get install spamassassin)")
    return found


@pytest.fixture(scope="session")
def dkim_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    key = tmp_path_factory.mktemp("dkim") / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    return key


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink, dkim_key: Path) -> dict[str, Any]:
    return {
        "SMTP_URL": smtp_sink.url,
        "BASE_URL": "https://lettre.revue-internationale.example",
        "MAIL_FROM": "La Revue Internationale <lettre@revue-internationale.example>",
        "MAIL_REPLY_TO": "redaction@revue-internationale.example",
        "DKIM_SELECTOR": "lettre2026",
        "DKIM_PRIVATE_KEY_PATH": str(dkim_key),
        "SEND_RATE_PER_SECOND": 0.0,
        "SEND_TASK_SECONDS": 30,
    }


def reader(
    email: str, language: str, status: SubscriberStatus, *slugs: str, name: str | None = None
) -> Subscriber:
    regions = db.session.execute(db.select(Region).where(Region.slug.in_(slugs))).scalars()
    subscriber = Subscriber(
        email=email,
        name=name,
        language=language,
        status=status,
        confirmed_at=datetime(2022, 1, 1, tzinfo=UTC) if status is not PENDING else None,
        regions=list(regions),
    )
    db.session.add(subscriber)
    db.session.commit()
    return subscriber


def every_kind_of_email(sink: SmtpSink) -> dict[str, bytes]:
    """One message of each kind, as the SMTP server received it, by kind and language."""
    sent: dict[str, bytes] = {}

    def received(kind: str, address: str) -> None:
        [message] = sink.wait_for(address)
        sent[kind] = message.data

    emails.send_confirmation(reader("confirm@example.org", "fr", PENDING).id)
    received("confirmation (fr)", "confirm@example.org")
    emails.send_already_subscribed(reader("already@example.org", "en", CONFIRMED).id)
    received("already subscribed (en)", "already@example.org")
    emails.send_manage_link(reader("manage@example.org", "fr", CONFIRMED).id)
    received("manage link (fr)", "manage@example.org")
    emails.send_erase_link(reader("erase@example.org", "en", CONFIRMED).id)
    received("erase confirmation (en)", "erase@example.org")

    ingest_file(SAMPLE_FEED)
    # A name puts a greeting in the body and an encoded display name in the To header.
    reader("digest-fr@example.org", "fr", CONFIRMED, "russie", "union-europeenne", name="Léa")
    reader("digest-en@example.org", "en", CONFIRMED, "afrique", "moyen-orient")
    # Every part of the layout: the editor's introduction, a top story, then region sections.
    top = db.session.execute(db.select(Article.id).order_by(Article.published_at)).scalar()
    digest_id = create_special(
        since=SAMPLE_SINCE,
        until=SAMPLE_UNTIL,
        intro="Une édition spéciale sur la guerre en Ukraine.\n\nBonne lecture.",
        pinned_article_id=top,
    ).digest.id
    received("digest (fr)", "digest-fr@example.org")
    shown = message_from_bytes(sent["digest (fr)"], policy=policy.default)
    assert isinstance(shown, EmailMessage)
    page = shown.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Bonjour Léa," in page and "Bonne lecture." in page and "À la une" in page
    received("digest (en)", "digest-en@example.org")
    regions = ["russie", "afrique"]
    assert send_test(address=EDITOR, regions=regions, language="fr", digest_id=digest_id)
    received("editor's test digest (fr)", EDITOR)
    return sent


def scores(program: str, messages: dict[str, bytes], home: Path) -> dict[str, list[Hit]]:
    """Each message's rules as `spamassassin -L -t` reports them; the processes run side by side."""
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    running = {
        kind: subprocess.Popen(
            [program, *SPAMASSASSIN_ARGS],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for kind in messages
    }
    found: dict[str, list[Hit]] = {}
    for kind, process in running.items():
        out, err = process.communicate(messages[kind], timeout=120)
        report = out.decode("utf-8", "replace")
        assert "Content analysis details" in report, f"{kind}: no report\n{err.decode()}"
        found[kind] = rules_in(report)
    return found


def rules_in(report: str) -> list[Hit]:
    """The rows of the report's table; a description running onto a second line is kept whole."""
    table = report.split("Content analysis details", 1)[1].split("\n---- ", 1)[1]
    hits: list[Hit] = []
    for line in table.splitlines()[1:]:
        match = RULE_LINE.match(line)
        if match:
            hits.append(Hit(float(match[1]), match[2], match[3].strip()))
        elif hits and line.startswith(" ") and line.strip():
            last = hits[-1]
            hits[-1] = Hit(last.points, last.rule, f"{last.description} {line.strip()}")
        elif not line.strip() and hits:
            break
    return hits


def test_every_email_we_send_scores_no_positive_spamassassin_rule(
    spamassassin: str, app: Flask, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    messages = every_kind_of_email(smtp_sink)

    found = scores(spamassassin, messages, tmp_path)

    positive = {kind: [h for h in hits if h.points > 0] for kind, hits in found.items()}
    listing = "\n".join(
        f"{kind}: " + ", ".join(str(h) for h in hits) for kind, hits in positive.items() if hits
    )
    assert not listing, f"SpamAssassin rules with positive points:\n{listing}"
    # Every kind was scored, and its table read: each message has HTML, and the report says so.
    assert sorted(found) == sorted(messages) and len(found) == 7
    assert all("HTML_MESSAGE" in {h.rule for h in hits} for hits in found.values()), found
    # The digests were scored as readers get them: signed.
    assert all(b"DKIM-Signature:" in data for kind, data in messages.items() if "digest" in kind)
