"""A delivered digest's article links, followed over HTTP: each counts once, leads to the
article's stored URL, and leaves no trace of who followed it."""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from newsletter.clicks.counting import NOT_A_LETTER, counts
from newsletter.clicks.refs import TOP, ClickRef, read_ref, sign_ref
from newsletter.digests.editions import create_special
from newsletter.models import Article, ClickCount, Subscriber, db
from tests.digests.conftest import SAMPLE_SINCE, SAMPLE_UNTIL
from tests.support.smtp import SmtpSink

READER_IP = "203.0.113.77"
READER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) Thunderbird/128.0"
LINK = re.compile(r"https://lettre\.revue-internationale\.example/r/[^\s\"'<>]+")


def letters_links(sink: SmtpSink) -> list[set[str]]:
    """Every click link of each received letter, from its HTML and its text parts."""
    found = []
    for received in sink.messages:
        message = received.message
        html = message.get_body(("html",)).get_content().replace("&amp;", "&")
        text = message.get_body(("plain",)).get_content()
        found.append(set(LINK.findall(html)) | set(LINK.findall(text)))
    return found


def follow(client: FlaskClient, url: str, method: str = "GET", agent: str = READER_AGENT) -> Any:
    parts = urlsplit(url)
    return client.open(
        parts.path,
        method=method,
        query_string=parts.query,
        headers={"User-Agent": agent},
        environ_base={"REMOTE_ADDR": READER_IP},
    )


def counted() -> Counter[tuple[int, int, str]]:
    db.session.expire_all()
    rows = db.session.execute(sa.select(ClickCount)).scalars()
    return Counter({(r.digest_id, r.article_id, r.section): r.clicks for r in rows})


def stored_url(article_id: int) -> str:
    return db.session.execute(sa.select(Article.url).where(Article.id == article_id)).scalar_one()


@pytest.fixture
def sent_letters(
    app: Flask,
    sample_articles: None,
    smtp_sink: SmtpSink,
    make_reader: Callable[..., Subscriber],
) -> list[set[str]]:
    make_reader("russie")
    make_reader("afrique", "moyen-orient", language="en")
    make_reader("union-europeenne", "russie")
    iran = db.session.execute(
        sa.select(Article).where(Article.title.like("Otages en Iran%"))
    ).scalar_one()
    create_special(
        since=SAMPLE_SINCE, until=SAMPLE_UNTIL, pinned_article_id=iran.id, created_by="test"
    )
    letters = letters_links(smtp_sink)
    assert len(letters) == 3 and all(letters)
    return letters


def test_every_link_of_a_delivered_digest_counts_once_and_leads_to_the_stored_article(
    app: Flask,
    client: FlaskClient,
    sent_letters: list[set[str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # Scanners fetch links as the letter arrives: followed within a second, nothing counts.
    for links in sent_letters:
        for url in links:
            response = follow(client, url)
            assert response.status_code == 302
    assert counted() == Counter()

    time.sleep(2.1)
    expected: Counter[tuple[int, int, str]] = Counter()
    for links in sent_letters:
        for url in links:
            ref = read_ref(urlsplit(url).path.rsplit("/", 1)[1])
            assert ref is not None
            expected[(ref.digest_id, ref.article_id, ref.section)] += 1
            response = follow(client, url)
            assert response.status_code == 302
            assert response.location == stored_url(ref.article_id)
    assert counted() == expected
    # The pinned story counts in its own slot, apart from the regions' sections.
    assert any(section == TOP for _, _, section in expected)
    assert sum(expected.values()) == sum(len(links) for links in sent_letters)

    # Nothing that could name the person: no such column, no such value, no log line.
    columns = {c.name for c in ClickCount.__table__.columns}
    assert columns == {"digest_id", "article_id", "section", "clicks"}
    rows = db.session.execute(sa.select(ClickCount.__table__)).all()
    stored = repr(rows)
    assert READER_IP not in stored and "Thunderbird" not in stored
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert READER_IP not in logged and "Thunderbird" not in logged


def test_head_requests_scanners_and_forged_references_count_nothing(
    app: Flask, client: FlaskClient, sent_letters: list[set[str]]
) -> None:
    time.sleep(2.1)
    links = sorted(set().union(*sent_letters))
    for url in links:
        assert follow(client, url, method="HEAD").status_code == 302
        for agent in (
            "Mozilla/5.0 (compatible; BingPreview/1.0b)",
            "Barracuda Sentinel (EE)",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "python-requests/2.32",
            "",
        ):
            response = follow(client, url, agent=agent)
            assert response.status_code == 302  # the link still works for them
    assert counted() == Counter()

    url = links[0]
    path, _, query = url.partition("?")
    ref = path.rsplit("/", 1)[1]
    payload, signature = ref.rsplit(".", 1)
    digest_id, article_id, section = payload.split(".")
    forged = [
        f"{payload}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",  # edited signature
        f"{digest_id}.{int(article_id) + 1}.{section}.{signature}",  # another article
        f"{digest_id}.{article_id}.asie.{signature}",  # another section
        f"{payload}",  # no signature
        "nothing-signed-here",
    ]
    for bad in forged:
        response = follow(client, f"https://lettre.revue-internationale.example/r/{bad}?{query}")
        assert response.status_code == 404, bad
        assert "Location" not in response.headers
    # Genuine references to what is not stored: no address to send anyone to.
    for missing in (ClickRef(int(digest_id), 999_999, "asie"), ClickRef(999_999, 1, "asie")):
        response = follow(client, f"https://x.example/r/{sign_ref(missing)}?{query}")
        assert response.status_code == 404
    assert counted() == Counter()


def test_a_link_without_its_mint_time_or_from_a_test_email_leads_on_and_counts_nothing(
    app: Flask, client: FlaskClient, sent_letters: list[set[str]]
) -> None:
    time.sleep(2.1)
    url = sorted(set().union(*sent_letters))[0]
    bare = url.split("?", 1)[0]
    for variant in (bare, f"{bare}?t=0", f"{bare}?t=zzzzzzzzzz", f"{bare}?t=-1"):
        response = follow(client, variant)
        assert response.status_code == 302
    assert follow(client, f"{bare}?t=%00").status_code == 400  # malformed: refused, not a 500
    # A mint time in the future: an edited link, or clocks apart; not a reader's click.
    later = int(time.time()) + 3600
    assert follow(client, f"{bare}?t={_base36(later)}").status_code == 302
    assert counted() == Counter()
    assert follow(client, url).status_code == 302
    assert sum(counted().values()) == 1


def test_a_click_counts_only_once_a_whole_second_has_passed_since_the_message_was_made() -> None:
    # A message made at 100.9 s carries t=100: a scanner's fetch at 101.05 s is 0.15 s after it.
    assert not counts(100, now=101.05)
    assert not counts(100, now=101.99)
    assert counts(100, now=102.0)
    assert not counts(NOT_A_LETTER, now=10_000.0) and not counts(None, now=10_000.0)


def _base36(value: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while value:
        value, rest = divmod(value, 36)
        out = digits[rest] + out
    return out or "0"


def test_with_click_counting_off_letters_carry_the_articles_own_links(
    app: Flask,
    sample_articles: None,
    smtp_sink: SmtpSink,
    make_reader: Callable[..., Subscriber],
) -> None:
    app.config["CLICK_COUNTING"] = False
    make_reader("russie")
    create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL, created_by="test")
    [received] = smtp_sink.messages
    text = received.message.get_body(("plain",)).get_content()
    html = received.message.get_body(("html",)).get_content()
    assert "/r/" not in text and "/r/" not in html
    urls = db.session.execute(sa.select(Article.url)).scalars().all()
    assert any(url in text for url in urls) and any(url in html for url in urls)
