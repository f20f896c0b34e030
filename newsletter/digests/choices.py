"""The articles an editor may pin on a special edition: those of its window, searchable."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from newsletter.models import Article, db

# Read at most this many of the window's articles to search (newest first): a week holds far
# fewer; a years-long window is narrowed by its dates, not scanned whole on every keystroke.
SEARCHED = 5000


@dataclass(frozen=True)
class PinChoice:
    id: int
    title: str
    published_at: datetime
    region_slugs: tuple[str, ...]


def fold(text: str) -> str:
    """Lower case without accents: "Écoles" and "ecoles" match."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def pinnable(
    start: datetime, end: datetime, *, query: str = "", limit: int = 200
) -> list[PinChoice]:
    """The window's articles, newest first, whose title holds every word of `query`
    (accents and case ignored)."""
    words = fold(query).split()
    rows = db.session.execute(
        db.select(Article)
        .where(Article.published_at >= start, Article.published_at < end)
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(SEARCHED)
    ).scalars()
    found = []
    for article in rows:
        title = fold(article.title)
        if all(word in title for word in words):
            slugs = tuple(region.slug for region in article.regions)
            found.append(PinChoice(article.id, article.title, article.published_at, slugs))
            if len(found) >= limit:
                break
    return found


def in_window(article_id: int, start: datetime, end: datetime) -> bool | None:
    """None: no such article; else whether it was published in [start, end)."""
    article = db.session.get(Article, article_id)
    if article is None:
        return None
    return start <= article.published_at < end
