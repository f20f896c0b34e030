"""The top story's search: the database matches folded titles over the whole window, each
word as typed (no wildcards), and a page of results costs the same few queries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from newsletter.digests.choices import PinChoice, pinnable
from newsletter.models import Article, Region, article_regions, db
from newsletter.models.article import fold
from tests.delivery.seed import WINDOW_END, WINDOW_START


def add_articles(titles: list[str], *, region: str = "asie") -> None:
    """In bulk, newest first in the list's order, each in `region`, title_folded as the model
    sets it."""
    region_id = db.session.execute(db.select(Region.id).where(Region.slug == region)).scalar_one()
    rows = [
        {
            "guid": f"https://revue.example/{i}",
            "url": f"https://revue.example/{i}",
            "title": title,
            "title_folded": fold(title),
            "lead": "",
            "lead_html": "",
            "tags": [],
            "published_at": WINDOW_END - timedelta(seconds=i + 1),
            "first_seen_at": WINDOW_END,
        }
        for i, title in enumerate(titles)
    ]
    db.session.execute(sa.insert(Article), rows)
    ids = db.session.execute(db.select(Article.id)).scalars().all()
    db.session.execute(
        sa.insert(article_regions), [{"article_id": i, "region_id": region_id} for i in ids]
    )
    db.session.commit()


@pytest.fixture
def selects(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    yield statements
    sa.event.remove(db.engine, "before_cursor_execute", count)


def titles(found: list[PinChoice]) -> list[str]:
    return [choice.title for choice in found]


def test_an_old_article_of_a_long_window_is_found_behind_thousands_of_newer_ones(
    app: Flask,
) -> None:
    add_articles([f"Dépêche {i}" for i in range(6000)] + ["Élections à Séoul"])

    found = pinnable(WINDOW_START - timedelta(days=30), WINDOW_END, query="seoul ELECTIONS")

    assert titles(found) == ["Élections à Séoul"]
    assert found[0].region_slugs == ("asie",)


def test_percent_and_underscore_in_the_search_match_only_themselves(app: Flask) -> None:
    add_articles(["Une hausse de 50% des prix", "Une hausse de 500 euros", "mot_clé", "motXclé"])

    assert titles(pinnable(WINDOW_START, WINDOW_END, query="50%")) == ["Une hausse de 50% des prix"]
    assert titles(pinnable(WINDOW_START, WINDOW_END, query="MOT_CLE")) == ["mot_clé"]


def test_a_page_of_results_with_their_regions_costs_two_queries(
    app: Flask, selects: list[str]
) -> None:
    add_articles([f"Pourparlers {i}" for i in range(300)])
    db.session.expire_all()
    selects.clear()

    found = pinnable(WINDOW_START, WINDOW_END, query="pourparlers", limit=200)

    assert len(found) == 200 and all(c.region_slugs == ("asie",) for c in found)
    assert titles(found)[:2] == ["Pourparlers 0", "Pourparlers 1"]
    assert len(selects) == 2
