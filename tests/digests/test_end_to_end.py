"""A digest over the sample feed, planned and sent by the delivery engine into a real SMTP sink."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from newsletter.delivery import digest_progress
from newsletter.digests.editions import create_special
from newsletter.models import Digest, DigestStatus, Subscriber, SubscriberStatus, db
from tests.digests.conftest import SAMPLE_SINCE, SAMPLE_UNTIL
from tests.digests.test_reader_articles import (
    AZOVSTAL,
    IRAN,
    LIBAN,
    MALI,
    POURPARLERS,
    SUEDE,
    UKRAINE,
)
from tests.support.smtp import SmtpSink

ALL_TITLES = (AZOVSTAL, SUEDE, UKRAINE, POURPARLERS, MALI, LIBAN, IRAN)


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink) -> dict[str, Any]:
    return {
        "SMTP_URL": smtp_sink.url,
        "BASE_URL": "https://lettre.revue-internationale.example",
        "SEND_RATE_PER_SECOND": 0.0,
        "SEND_TASK_SECONDS": 30,
    }


def shown(sink: SmtpSink, reader: Subscriber) -> list[str]:
    """The sample titles in the reader's one email, in the order the text part lists them."""
    [received] = sink.to(reader.email)
    text = received.message.get_body(("plain",)).get_content()
    found = [t for t in ALL_TITLES if t in text]
    assert all(text.count(t) == 1 for t in found)
    return sorted(found, key=text.index)


def test_each_reader_is_mailed_exactly_their_regions_articles_and_the_counts_are_recorded(
    app: Flask,
    sample_articles: None,
    smtp_sink: SmtpSink,
    make_reader: Callable[..., Subscriber],
) -> None:
    russie = make_reader("russie")
    afrique_mo = make_reader("afrique", "moyen-orient", language="en")
    asie = make_reader("asie")
    ue_russie = make_reader("union-europeenne", "russie")
    make_reader("russie", status=SubscriberStatus.PENDING)
    make_reader("russie", status=SubscriberStatus.UNSUBSCRIBED)

    digest_id = create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL, created_by="test").digest.id

    assert shown(smtp_sink, russie) == [AZOVSTAL, SUEDE, UKRAINE, POURPARLERS]
    assert shown(smtp_sink, afrique_mo) == [MALI, LIBAN, IRAN]
    assert shown(smtp_sink, ue_russie) == [SUEDE, UKRAINE, AZOVSTAL, POURPARLERS]
    assert smtp_sink.to(asie.email) == []
    assert len(smtp_sink.messages) == 3
    english = smtp_sink.to(afrique_mo.email)[0].message
    assert english["Subject"] == "Africa, Middle East: 3 articles — Special edition"
    assert english["List-Unsubscribe"].startswith("<https://lettre.revue-internationale.example/")
    progress = digest_progress(digest_id)
    assert progress.get("sent") == 3 and progress.get("skipped") == 1
    assert sum(progress.values()) == 4
    digest = db.session.get(Digest, digest_id)
    db.session.refresh(digest)
    assert digest.status is DigestStatus.FINISHED and digest.planned_count == 4


def test_a_reader_confirmed_after_the_digest_was_planned_waits_for_the_next_one(
    app: Flask,
    sample_articles: None,
    smtp_sink: SmtpSink,
    make_reader: Callable[..., Subscriber],
) -> None:
    early = make_reader("russie")
    late = make_reader("russie", confirmed_at=datetime(2100, 1, 1, tzinfo=UTC))

    create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL)

    assert len(smtp_sink.to(early.email)) == 1
    assert smtp_sink.to(late.email) == []


def test_the_one_click_unsubscribe_link_of_a_digest_unsubscribes_its_reader(
    app: Flask,
    sample_articles: None,
    smtp_sink: SmtpSink,
    make_reader: Callable[..., Subscriber],
) -> None:
    reader = make_reader("russie")
    create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL)
    [received] = smtp_sink.to(reader.email)
    url = received.message["List-Unsubscribe"].strip("<>")

    # What a mail client does with List-Unsubscribe-Post (RFC 8058): no cookie, no form token.
    response = app.test_client().post(
        url.removeprefix(app.config["BASE_URL"]), data={"List-Unsubscribe": "One-Click"}
    )

    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Subscriber, reader.id).status is SubscriberStatus.UNSUBSCRIBED
