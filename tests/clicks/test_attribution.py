"""An edition's figures count what happened to its own letters: the readers who left from its
letter (its unsubscribe link, a complaint quoting its Message-ID), and, per section, the
letters that had that section when they were sent — whatever readers do afterwards."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from newsletter import ledger
from newsletter.clicks import figures
from newsletter.clicks.refs import TOP
from newsletter.digests.editions import create_special
from newsletter.ledger import tally
from newsletter.models import Article, Delivery, DeliveryState, Digest, Region, Subscriber, db
from newsletter.subscriptions import preferences
from newsletter.subscriptions.service import Provenance
from tests.clicks.test_click_reports import cell
from tests.digests.conftest import SAMPLE_SINCE, SAMPLE_UNTIL
from tests.support.editors import log_in_editor
from tests.support.smtp import Received, SmtpSink

ARF = Path(__file__).resolve().parent.parent / "fixtures" / "bounces" / "arf-complaint.eml"


def letter_to(sink: SmtpSink, reader: Subscriber, digest_id: int) -> Received:
    """The reader's letter of this edition, as the relay received it."""
    mids = dict(
        db.session.execute(
            sa.select(Delivery.subscriber_id, Delivery.message_id).where(
                Delivery.digest_id == digest_id
            )
        ).all()
    )
    for received in sink.to(reader.email):
        if received.message["Message-ID"] == mids[reader.id]:
            return received
    raise AssertionError(f"no letter of edition {digest_id} for {reader.email}")


def one_click(client: FlaskClient, letter: Received) -> None:
    """What a mail client does with the letter's List-Unsubscribe header (RFC 8058)."""
    url = letter.message["List-Unsubscribe"].strip("<>")
    response = client.post(urlsplit(url).path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200


def complain(app: Flask, tmp_path: Path, letter: Received, email: str) -> None:
    """A mailbox provider's ARF report about this letter, read by `newsletter bounces process`."""
    report = ARF.read_text()
    report = report.replace("claire.bernard@example.com", email)
    report = report.replace(
        "<d9004.12.3e21f0aa@revue-internationale.example>", letter.message["Message-ID"]
    )
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "arf.eml").write_text(report)
    result = app.test_cli_runner().invoke(args=["bounces", "process", str(folder)])
    assert result.exit_code == 0 and "unsubscribed: 1" in result.output, result.output


def test_leaving_from_a_letter_counts_against_its_edition_not_the_latest_one(
    app: Flask,
    client: FlaskClient,
    sample_articles: None,
    smtp_sink: SmtpSink,
    make_reader: Callable[..., Subscriber],
    tmp_path: Path,
) -> None:
    by_link, by_complaint, by_admin, stays = (make_reader("russie") for _ in range(4))
    first = create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL, created_by="t").digest.id
    second = create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL, created_by="t").digest.id
    assert len(smtp_sink.messages) == 8
    time.sleep(0.01)  # the events come after both letters

    # Both readers act on the first letter, though the second one reached them since.
    one_click(client, letter_to(smtp_sink, by_link, first))
    complain(app, tmp_path, letter_to(smtp_sink, by_complaint, first), by_complaint.email)
    # An admin's unsubscribe is no reaction to a letter: it counts against none.
    preferences.unsubscribe(by_admin, Provenance(source="console:admin@example.org"))
    db.session.expire_all()

    left = figures.leavers([first, second])
    assert left[first] == figures.Leavers(unsubscribed=1, complained=1)
    assert left[second] == figures.Leavers(unsubscribed=0, complained=0)
    log_in_editor(client)
    page = client.get(f"/admin/digests/{first}").get_data(as_text=True)
    assert (cell(page, "unsubscribed"), cell(page, "complained")) == ("1", "1")
    page = client.get(f"/admin/digests/{second}").get_data(as_text=True)
    assert (cell(page, "unsubscribed"), cell(page, "complained")) == ("0", "0")

    # Erased, the reader who left by the link is gone; their event still counts, naming no one.
    preferences.erase(db.session.get(Subscriber, by_link.id), Provenance(source="erase-link"))
    db.session.expire_all()
    assert figures.leavers([first])[first] == figures.Leavers(unsubscribed=1, complained=1)
    assert db.session.get(Subscriber, stays.id) is not None


def test_an_unsubscribe_that_names_no_letter_goes_to_the_readers_last_letter(
    app: Flask,
    client: FlaskClient,
    sample_articles: None,
    smtp_sink: SmtpSink,
    make_reader: Callable[..., Subscriber],
) -> None:
    reader = make_reader("russie")
    first = create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL, created_by="t").digest.id
    second = create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL, created_by="t").digest.id
    time.sleep(0.01)
    # A link from an email that is no letter (a confirmation's): it names no edition.
    preferences.unsubscribe(reader, Provenance(source="web"))
    left = figures.leavers([first, second])
    assert (left[first].unsubscribed, left[second].unsubscribed) == (0, 1)


def region_ids() -> dict[str, int]:
    return dict(db.session.execute(sa.select(Region.slug, Region.id)).all())


def test_a_sections_letters_are_those_sent_with_it_whatever_readers_choose_later(
    app: Flask,
    sample_articles: None,
    smtp_sink: SmtpSink,
    make_reader: Callable[..., Subscriber],
) -> None:
    russia = make_reader("russie")
    both = make_reader("russie", "afrique")
    africa = make_reader("afrique")
    iran = db.session.execute(
        sa.select(Article).where(Article.title.like("Otages en Iran%"))
    ).scalar_one()
    digest_id = create_special(
        since=SAMPLE_SINCE, until=SAMPLE_UNTIL, pinned_article_id=iran.id, created_by="t"
    ).digest.id
    assert len(smtp_sink.messages) == 3

    ids = region_ids()
    masks = dict(
        db.session.execute(
            sa.select(Delivery.subscriber_id, Delivery.sections).where(
                Delivery.digest_id == digest_id, Delivery.state == DeliveryState.SENT
            )
        ).all()
    )
    assert masks == {
        russia.id: 1 | 1 << ids["russie"],
        both.id: 1 | 1 << ids["russie"] | 1 << ids["afrique"],
        africa.id: 1 | 1 << ids["afrique"],
    }
    regions = [(ids[slug], slug) for slug in ("russie", "afrique", "asie")]
    expected = {TOP: 3, "russie": 2, "afrique": 2, "asie": 0}
    assert figures.letters_per_section(digest_id, regions) == expected

    # Readers change their regions after the send: the letters they got do not change.
    for reader, slug in ((russia, "asie"), (africa, "russie")):
        preferences.change_preferences(
            reader, region_slugs=(slug,), language="fr", paused=False, provenance=Provenance()
        )
    db.session.expire_all()
    assert figures.letters_per_section(digest_id, regions) == expected


def test_letters_sent_before_sections_were_recorded_count_by_todays_regions(
    app: Flask,
    sample_articles: None,
    smtp_sink: SmtpSink,
    make_reader: Callable[..., Subscriber],
) -> None:
    russia, africa = make_reader("russie"), make_reader("afrique")
    digest_id = create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL, created_by="t").digest.id
    # As a row recorded by an earlier version of the ledger: no sections, and no tally.
    db.session.execute(
        sa.update(Delivery)
        .where(Delivery.digest_id == digest_id, Delivery.subscriber_id == africa.id)
        .values(sections=None)
    )
    db.session.execute(sa.update(Digest).where(Digest.id == digest_id).values(tally=None))
    db.session.commit()
    ids = region_ids()
    regions = [(ids["russie"], "russie"), (ids["afrique"], "afrique")]
    letters = figures.letters_per_section(digest_id, regions)
    assert letters == {TOP: 1, "russie": 1, "afrique": 1}
    # The same from a tally that counts such a letter (an edition finished again since).
    with db.engine.begin() as conn:
        tally.store(conn, digest_id)
    db.session.expire_all()
    assert db.session.get(Digest, digest_id).tally["sent_sections"][tally.UNRECORDED] == 1
    assert figures.letters_per_section(digest_id, regions) == letters
    assert db.session.get(Subscriber, russia.id) is not None


def test_a_letter_first_uncertain_then_shown_accepted_by_the_relays_log_keeps_its_sections(
    app: Flask,
    sample_articles: None,
    smtp_sink: SmtpSink,
    make_reader: Callable[..., Subscriber],
) -> None:
    russia, africa = make_reader("russie"), make_reader("afrique")
    smtp_sink.drop_policy = lambda n: "after" if n == 1 else None  # kept, but no reply
    digest_id = create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL, created_by="t").digest.id
    [doubtful] = db.session.execute(
        sa.select(Delivery).where(
            Delivery.digest_id == digest_id, Delivery.state == DeliveryState.UNCERTAIN
        )
    ).scalars()
    ids = region_ids()
    regions = [(ids["russie"], "russie"), (ids["afrique"], "afrique")]
    before = figures.letters_per_section(digest_id, regions)
    assert sum(before.values()) == 1  # only the letter with a reply counts so far

    assert ledger.settle_uncertain([doubtful.id], source="mail.log") == 1
    db.session.commit()
    db.session.expire_all()
    assert figures.letters_per_section(digest_id, regions) == {TOP: 0, "russie": 1, "afrique": 1}
    assert {russia.id, africa.id} == set(
        db.session.execute(
            sa.select(Delivery.subscriber_id).where(Delivery.digest_id == digest_id)
        ).scalars()
    )
