"""Article text is data: markup, template syntax and line breaks show as text and add no header."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email import message_from_bytes, policy

from flask import Flask

from newsletter.digests.compose import DigestComposer
from newsletter.digests.editions import create_special
from newsletter.ingest.articles import ArticleData, upsert_article
from newsletter.models import Section, Subscriber, db

HOSTILE = "<script>alert(1)</script> {{ config }}\r\nBcc: victim@example.com"
EXPECTED_HEADERS = {
    "subject",
    "from",
    "to",
    "date",
    "message-id",
    "list-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "mime-version",
    "content-type",
}


def hostile_article() -> int:
    article, _ = upsert_article(
        ArticleData(
            guid="hostile-1",
            url="https://www.revue-internationale.example/2022/05/hostile/",
            title=HOSTILE,
            lead="Un chapô {% if true %}avec{% endif %} <b>balises</b>\nBcc: lead@example.com",
            author="Mallory\r\nCc: author@example.com",
            section=Section.EN_CONTINU,
            published_at=datetime(2022, 5, 20, 9, 0, tzinfo=UTC),
            region_slugs=("russie",),
        )
    )
    db.session.commit()
    return article.id


def test_a_hostile_title_shows_as_text_in_the_subject_the_text_and_the_html(
    app: Flask, make_reader: Callable[..., Subscriber]
) -> None:
    article_id = hostile_article()
    reader = make_reader("russie", name="Eve\r\nBcc: name@example.com")
    # Pinned in a special edition: the title is also the subject.
    edition = create_special(
        since=datetime(2022, 5, 1, tzinfo=UTC),
        until=datetime(2022, 6, 1, tzinfo=UTC),
        intro="Intro {{ config.SECRET_KEY }} <i>brute</i>",
        pinned_article_id=article_id,
    )
    composer = DigestComposer.load(edition.digest.id)
    body = composer.body_for(("russie",), "fr")
    assert body is not None

    raw = composer.message_for(
        body, email=reader.email, name=reader.name, subscriber_id=reader.id, message_id="<h@x>"
    )
    message = message_from_bytes(raw, policy=policy.default)

    assert {name.lower() for name in message} == EXPECTED_HEADERS
    assert message["Subject"] == (
        "Édition spéciale — <script>alert(1)</script> {{ config }} Bcc: victim@example.com"
    )
    assert message["To"].addresses[0].display_name == "Eve Bcc: name@example.com"
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = message.get_body(("html",)).get_content()
    assert "* <script>alert(1)</script> {{ config }} Bcc: victim@example.com\n" in text
    assert "Intro {{ config.SECRET_KEY }} <i>brute</i>" in text
    assert "par Mallory Cc: author@example.com" in text
    assert "{% if true %}avec{% endif %} <b>balises</b> Bcc: lead@example.com" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ config }} Bcc: victim@example.com" in html
    assert "<script" not in html and "<b>" not in html and "<i>" not in html
    assert "Intro {{ config.SECRET_KEY }} &lt;i&gt;brute&lt;/i&gt;" in html
    assert app.config["SECRET_KEY"] not in text + html
