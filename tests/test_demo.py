"""`newsletter demo load`, as a newcomer meets it through `make run`: articles of the last
days, confirmed readers, and a first preview and special edition that have content without
any date passed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from newsletter.demo.load import load_demo
from newsletter.digests.preview import preview
from newsletter.models import REGIONS, Article, Region, Subscriber, SubscriberStatus, db
from tests.support.smtp import SmtpSink

ALL_REGIONS = tuple(slug for slug, _, _ in REGIONS)


@pytest.fixture
def app_overrides(smtp_sink: SmtpSink) -> dict[str, Any]:
    return {"SMTP_URL": smtp_sink.url, "SEND_RATE_PER_SECOND": 0.0}


def article_dates() -> list[datetime]:
    dates = db.session.execute(db.select(Article.published_at)).scalars()
    return [d if d.tzinfo else d.replace(tzinfo=UTC) for d in dates]


def test_demo_load_dates_the_articles_within_the_last_week_and_adds_confirmed_readers(
    app: Flask,
) -> None:
    before = datetime.now(UTC)
    result = app.test_cli_runner().invoke(args=["demo", "load"])

    assert result.exit_code == 0, result.output
    assert "Demo articles: 8 (8 new)" in result.output
    assert "Demo readers: 4 (4 new)" in result.output
    dates = article_dates()
    assert len(dates) == 8
    assert all(before - timedelta(days=6) < d <= datetime.now(UTC) for d in dates), dates
    readers = db.session.execute(db.select(Subscriber)).scalars().all()
    assert len(readers) == 4
    assert {r.status for r in readers} == {SubscriberStatus.CONFIRMED}
    assert all(r.regions for r in readers)
    russie = db.session.execute(db.select(Region).where(Region.slug == "russie")).scalar_one()
    titles = db.session.execute(db.select(Article.title).where(Article.regions.contains(russie)))
    assert "Fin de la bataille d’Azovstal" in set(titles.scalars())


def test_loading_the_demo_again_later_adds_no_one_and_dates_the_articles_again(
    app: Flask,
) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    a_month_later = datetime.now(UTC) + timedelta(days=30)

    report = load_demo(now=a_month_later)
    second = runner.invoke(args=["demo", "load"])

    assert (report.articles_new, report.readers_new) == (0, 0)
    assert "Demo articles: 8 (0 new)" in second.output
    assert "Demo readers: 4 (0 new)" in second.output
    assert first.output.splitlines()[-1] == second.output.splitlines()[-1]  # same login
    assert db.session.execute(db.select(db.func.count(Article.id))).scalar_one() == 8
    assert db.session.execute(db.select(db.func.count(Subscriber.id))).scalar_one() == 4
    assert max(article_dates()) > datetime.now(UTC) - timedelta(hours=6)


def test_the_first_preview_shows_every_demo_article_with_no_date_given(app: Flask) -> None:
    app.test_cli_runner().invoke(args=["demo", "load"])

    _, body = preview(None, ALL_REGIONS, "fr")

    assert body is not None, "the weekly preview says there is nothing new"
    assert len(body.article_ids) == 8
    assert "Le Mali quitte le G5 Sahel" in body.html


def test_the_readmes_special_edition_reaches_every_demo_reader_with_no_date_given(
    app: Flask, smtp_sink: SmtpSink
) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["demo", "load"])

    sent = runner.invoke(args=["digest", "send", "--special"])

    assert sent.exit_code == 0, sent.output
    readers = db.session.execute(db.select(Subscriber)).scalars().all()
    for reader in readers:
        [received] = smtp_sink.to(reader.email)
        assert "Édition spéciale" in received.message["Subject"] or (
            "Special edition" in received.message["Subject"]
        )
    [all_regions] = smtp_sink.to("lecteur.curieux@example.com")
    assert "8 articles" in all_regions.message["Subject"]
