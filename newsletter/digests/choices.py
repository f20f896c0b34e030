"""The articles an editor may pin on a special edition: those of its window, searchable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from newsletter.models import Article, db
from newsletter.models.article import fold


@dataclass(frozen=True)
class PinChoice:
    id: int
    title: str
    published_at: datetime
    region_slugs: tuple[str, ...]


def pinnable(
    start: datetime, end: datetime, *, query: str = "", limit: int = 200
) -> list[PinChoice]:
    """The window's articles, newest first, whose title holds every word of `query`
    (accents and case ignored)."""
    # title_folded is the title folded as `fold` folds the query (set with the title): the
    # database matches each word and stops at `limit`, whatever the window's length.
    # Articles.regions loads with selectin: one query for the regions of the whole page.
    words = [Article.title_folded.contains(word, autoescape=True) for word in fold(query).split()]
    rows = db.session.execute(
        db.select(Article)
        .where(Article.published_at >= start, Article.published_at < end, *words)
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(limit)
    ).scalars()
    return [
        PinChoice(
            article.id,
            article.title,
            article.published_at,
            tuple(region.slug for region in article.regions),
        )
        for article in rows
    ]


def in_window(article_id: int, start: datetime, end: datetime) -> bool | None:
    """None: no such article; else whether it was published in [start, end)."""
    article = db.session.get(Article, article_id)
    if article is None:
        return None
    return start <= article.published_at < end
