"""Each reader gets exactly the new articles of their regions, once each, or no email at all."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from newsletter.digests.compose import DigestComposer
from newsletter.digests.editions import create_special
from newsletter.models import Article, Subscriber, db
from tests.digests.conftest import SAMPLE_SINCE, SAMPLE_UNTIL

AZOVSTAL = "Fin de la bataille d’Azovstal"
SUEDE = "Vers une adhésion de la Suède et la Finlande à l’Otan ?"
UKRAINE = "Ukraine : l’OTAN prête pour une guerre d’usure"
POURPARLERS = "Pourparlers russo-américains en janvier"
MALI = "Le Mali quitte le G5 Sahel"
LIBAN = "Liban : les banques au cœur de la crise"
IRAN = "Otages en Iran : ne nourrissez pas le crocodile"
EXPO = "Les candidats s’activent pour l’exposition universelle 2030"


def titles(article_ids: tuple[int, ...]) -> list[str]:
    return [db.session.get(Article, article_id).title for article_id in article_ids]


def composer_for_sample() -> DigestComposer:
    edition = create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL, created_by="test")
    return DigestComposer.load(edition.digest.id)


def test_each_reader_gets_the_articles_of_their_regions_once_newest_first(
    app: Flask,
    sample_articles: None,
    make_reader: Callable[..., Subscriber],
) -> None:
    russie = make_reader("russie")
    afrique_mo = make_reader("afrique", "moyen-orient")
    asie = make_reader("asie")
    ue_russie = make_reader("union-europeenne", "russie")
    composer = composer_for_sample()

    got = {
        reader.id: composer.body_for(tuple(reader.region_slugs), reader.language)
        for reader in (russie, afrique_mo, asie, ue_russie)
    }

    assert titles(got[russie.id].article_ids) == [AZOVSTAL, SUEDE, UKRAINE, POURPARLERS]
    assert titles(got[afrique_mo.id].article_ids) == [MALI, LIBAN, IRAN]
    assert got[asie.id] is None
    # Sweden/Finland and Ukraine are in both regions: shown once, under the first in menu order.
    assert titles(got[ue_russie.id].article_ids) == [SUEDE, UKRAINE, AZOVSTAL, POURPARLERS]
    for body in (got[russie.id], got[afrique_mo.id], got[ue_russie.id]):
        for title in titles(body.article_ids):
            assert body.text.count(title) == 1
    assert EXPO not in got[ue_russie.id].text


def test_sections_follow_the_menu_order_whatever_order_the_reader_chose_them_in(
    app: Flask, sample_articles: None
) -> None:
    composer = composer_for_sample()

    body = composer.body_for(("moyen-orient", "union-europeenne", "afrique"), "fr")

    text = body.text
    assert text.index("UNION EUROPÉENNE") < text.index("AFRIQUE") < text.index("MOYEN-ORIENT")
    assert composer.body_for(("afrique", "union-europeenne", "moyen-orient"), "fr") is body


def test_a_special_edition_limited_to_regions_leaves_the_others_out(
    app: Flask, sample_articles: None
) -> None:
    edition = create_special(regions=["afrique"], since=SAMPLE_SINCE, until=SAMPLE_UNTIL)
    composer = DigestComposer.load(edition.digest.id)

    assert titles(composer.body_for(("afrique", "russie"), "fr").article_ids) == [MALI]
    assert composer.body_for(("russie",), "fr") is None


def test_articles_outside_the_window_are_left_out(app: Flask, sample_articles: None) -> None:
    from datetime import UTC, datetime

    edition = create_special(
        since=datetime(2022, 5, 1, tzinfo=UTC), until=datetime(2022, 5, 18, 7, 15, tzinfo=UTC)
    )
    composer = DigestComposer.load(edition.digest.id)

    # The window is half-open: Azovstal, published at its very end, waits for the next one.
    assert titles(composer.body_for(("russie",), "fr").article_ids) == [SUEDE]


def test_a_top_story_reaches_every_reader_of_the_edition_even_with_nothing_else_new(
    app: Flask,
    sample_articles: None,
    make_reader: Callable[..., Subscriber],
) -> None:
    iran = db.session.execute(db.select(Article).where(Article.title == IRAN)).scalar_one()
    edition = create_special(
        regions=["moyen-orient", "asie"],
        since=SAMPLE_SINCE,
        until=SAMPLE_UNTIL,
        pinned_article_id=iran.id,
    )
    composer = DigestComposer.load(edition.digest.id)

    asie = composer.body_for(("asie",), "fr")
    moyen_orient = composer.body_for(("moyen-orient",), "en")

    assert titles(asie.article_ids) == [IRAN]
    assert asie.subject == f"Édition spéciale — {IRAN}"
    assert "Vous recevez cette lettre car vous suivez : Asie." in asie.text
    assert titles(moyen_orient.article_ids) == [IRAN, LIBAN]
    assert composer.body_for(("russie",), "fr") is None
