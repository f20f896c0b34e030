"""Ingesting the publication's feed: articles with regions, sections, authors and UTC dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask

from newsletter.ingest.feeds import ingest_document, ingest_file
from newsletter.models import Article, Section, db

SAMPLE = Path(__file__).parent.parent / "fixtures" / "revue-internationale-sample.rss"


def _articles() -> dict[str, Article]:
    rows = db.session.execute(db.select(Article)).scalars().all()
    return {article.title: article for article in rows}


# title: (regions, section, author, published_at in UTC, tags), as the sample feed says.
EXPECTED = {
    "Les candidats s’activent pour l’exposition universelle 2030": (
        ["monde-de-demain"], Section.GRAND_ANGLE, "La rédaction", (2022, 5, 18, 9, 30), []
    ),
    "Fin de la bataille d’Azovstal": (
        ["russie"], Section.EN_CONTINU, "La rédaction", (2022, 5, 18, 7, 15), []
    ),
    "Liban : les banques au cœur de la crise": (
        ["moyen-orient"], Section.GRAND_ANGLE, "La rédaction", (2022, 5, 16, 14, 0), []
    ),
    "Le Mali quitte le G5 Sahel": (
        ["afrique"], Section.EN_CONTINU, "La rédaction", (2022, 5, 16, 8, 45), []
    ),
    "Vers une adhésion de la Suède et la Finlande à l’Otan ?": (
        ["union-europeenne", "russie"], Section.EN_CONTINU, "La rédaction",
        (2022, 5, 14, 10, 0), [],
    ),
    "Ukraine : l’OTAN prête pour une guerre d’usure": (
        ["union-europeenne", "russie"], Section.EN_CONTINU, "La rédaction",
        (2022, 4, 30, 11, 20), [],
    ),
    "Otages en Iran : ne nourrissez pas le crocodile": (
        ["moyen-orient"], Section.IDEES, "Hamid Enayat", (2022, 4, 28, 9, 0),
        ["Tribune à la une"],
    ),
    "Pourparlers russo-américains en janvier": (
        ["russie", "ameriques"], Section.EN_CONTINU, "Etienne Dhuit", (2021, 12, 29, 10, 0),
        ["Pourparlers Russie USA"],
    ),
}  # fmt: skip


def test_the_sample_feed_yields_its_eight_articles_classified(app: Flask) -> None:
    result = ingest_file(SAMPLE)

    assert (result.created, result.updated, result.unchanged) == (8, 0, 0)
    found = {
        a.title: (
            [r.slug for r in a.regions],
            a.section,
            a.author,
            a.published_at,
            a.tags,
        )
        for a in _articles().values()
    }
    expected = {
        title: (regions, section, author, datetime(*moment, tzinfo=UTC), tags)
        for title, (regions, section, author, moment, tags) in EXPECTED.items()
    }
    assert found == expected
    talks = _articles()["Pourparlers russo-américains en janvier"]
    assert talks.guid == "https://www.revue-internationale.example/?p=88020"
    assert talks.url.endswith("/2021/12/pourparlers-russo-americains-en-janvier/")
    assert talks.lead.startswith("La Russie et les Etats-Unis se sont mis d’accord")
    assert all(a.published_at.utcoffset() == timedelta(0) for a in _articles().values())
    assert not any(a.needs_region for a in _articles().values())


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
