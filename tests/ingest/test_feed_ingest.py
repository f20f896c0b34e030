"""Ingesting the publication's feed: articles with regions, sections, authors and UTC dates."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask import Flask

from newsletter.ingest.feeds import ingest_document, ingest_file
from newsletter.models import Article, Section, db

SAMPLE = Path(__file__).parent.parent / "fixtures" / "revue-internationale-sample.rss"


def _articles() -> dict[str, Article]:
    rows = db.session.execute(db.select(Article)).scalars().all()
    return {article.title: article for article in rows}


def test_the_sample_feed_yields_its_eight_articles_classified(app: Flask) -> None:
    result = ingest_file(SAMPLE)

    assert (result.created, result.updated, result.unchanged) == (8, 0, 0)
    articles = _articles()
    assert len(articles) == 8
    talks = articles["Pourparlers russo-américains en janvier"]
    assert [r.slug for r in talks.regions] == ["russie", "ameriques"]
    assert talks.section is Section.EN_CONTINU
    assert talks.author == "Etienne Dhuit"
    assert talks.tags == ["Pourparlers Russie USA"]
    assert talks.published_at == datetime(2021, 12, 29, 10, 0, tzinfo=UTC)
    assert talks.guid == "https://www.revue-internationale.example/?p=88020"
    op_ed = articles["Otages en Iran : ne nourrissez pas le crocodile"]
    assert op_ed.section is Section.IDEES
    assert [r.slug for r in op_ed.regions] == ["moyen-orient"]
    assert op_ed.author == "Hamid Enayat"
    assert op_ed.tags == ["Tribune à la une"]
    expo = articles["Les candidats s’activent pour l’exposition universelle 2030"]
    assert [r.slug for r in expo.regions] == ["monde-de-demain"]
    assert expo.section is Section.GRAND_ANGLE
    sweden = articles["Vers une adhésion de la Suède et la Finlande à l’Otan ?"]
    assert [r.slug for r in sweden.regions] == ["union-europeenne", "russie"]
    assert all(a.published_at.tzinfo is not None for a in articles.values())
    assert not any(a.needs_region for a in articles.values())


def test_ingesting_the_same_feed_again_changes_nothing(app: Flask) -> None:
    ingest_file(SAMPLE)
    before = {a.guid: a.updated_at for a in _articles().values()}
    db.session.expire_all()

    result = ingest_file(SAMPLE)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 8)
    db.session.expire_all()
    assert {a.guid: a.updated_at for a in _articles().values()} == before


def test_an_edited_title_updates_that_one_article(app: Flask) -> None:
    ingest_file(SAMPLE)
    edited = SAMPLE.read_bytes().replace(
        b"<title>Le Mali quitte le G5 Sahel</title>",
        b"<title>Le Mali quitte officiellement le G5 Sahel</title>",
    )

    result = ingest_document(edited)

    assert (result.created, result.updated, result.unchanged) == (0, 1, 7)
    db.session.expire_all()
    titles = set(_articles())
    assert "Le Mali quitte officiellement le G5 Sahel" in titles
    assert "Le Mali quitte le G5 Sahel" not in titles
    assert len(titles) == 8
