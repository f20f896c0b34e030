"""Which articles a reader with given regions gets: a pure function over the window's articles.

The window's articles are loaded once per digest (`load_window`); assembling a reader's
sections is then plain Python, cheap enough to run once per distinct region combination.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from newsletter.models import Article, Digest, Region, Section, db


@dataclass(frozen=True)
class ArticleItem:
    """What a digest shows of one article: data only, detached from the session."""

    id: int
    url: str
    title: str
    lead: str
    author: str | None
    section: Section | None
    published_at: datetime
    region_slugs: tuple[str, ...]


@dataclass(frozen=True)
class RegionInfo:
    slug: str
    name_fr: str
    name_en: str
    position: int
    id: int = 0  # the region's row id: what a letter's recorded sections name (clicks/)

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_fr


@dataclass(frozen=True)
class DigestSection:
    region: RegionInfo
    articles: tuple[ArticleItem, ...]


@dataclass(frozen=True)
class Window:
    """Everything a digest can show: its articles, newest first, and the menu's regions."""

    articles: tuple[ArticleItem, ...]
    regions: tuple[RegionInfo, ...]
    pinned: ArticleItem | None = None
    # The edition's regions when it is limited to some; None: every region.
    limited_to: frozenset[str] | None = None

    def names(self, slugs: Iterable[str], language: str) -> list[str]:
        """The names of these regions in menu order: what a reader follows, as the footer says."""
        chosen = set(slugs)
        return [r.name(language) for r in self.regions if r.slug in chosen]

    def region_slugs_with_news(self) -> set[str]:
        return {slug for article in self.articles for slug in article.region_slugs}

    def pinned_for(self, reader_regions: Iterable[str]) -> bool:
        """The top story goes to every reader of the edition, even one with nothing else new."""
        if self.pinned is None:
            return False
        return self.limited_to is None or bool(self.limited_to & set(reader_regions))


def load_window(digest: Digest) -> Window:
    """The digest's articles in two queries (articles, then their regions by selectin)."""
    regions = tuple(
        RegionInfo(r.slug, r.name_fr, r.name_en, r.position, r.id)
        for r in db.session.execute(db.select(Region).order_by(Region.position)).scalars()
    )
    # Half-open window [start, end): consecutive weekly digests never share an article.
    rows = db.session.execute(
        db.select(Article)
        .where(Article.published_at >= digest.window_start)
        .where(Article.published_at < digest.window_end)
        .order_by(Article.published_at.desc(), Article.id.desc())
    ).scalars()
    allowed = set(digest.region_slugs) if digest.region_slugs else None
    articles = []
    for article in rows:
        item = to_item(article, allowed)
        if item.region_slugs:
            articles.append(item)
    pinned = None
    if digest.pinned_article_id is not None:
        found = db.session.get(Article, digest.pinned_article_id)
        pinned = to_item(found, None) if found is not None else None
    return Window(
        articles=tuple(articles),
        regions=regions,
        pinned=pinned,
        limited_to=frozenset(allowed) if allowed is not None else None,
    )


def to_item(article: Article, allowed: set[str] | None) -> ArticleItem:
    slugs = tuple(r.slug for r in article.regions if allowed is None or r.slug in allowed)
    return ArticleItem(
        id=article.id,
        url=article.url,
        title=article.title,
        lead=article.lead or "",
        author=article.author,
        section=article.section,
        published_at=article.published_at,
        region_slugs=slugs,
    )


def assemble(window: Window, reader_regions: Iterable[str]) -> tuple[DigestSection, ...]:
    """One section per reader region with news, in menu order; each article once.

    An article in two of the reader's regions appears in the first of them in menu order.
    Within a section, newest first (ties: most recently stored first). The pinned story is
    shown above the sections and so is left out of them.
    """
    chosen = set(reader_regions)
    shown: set[int] = {window.pinned.id} if window.pinned else set()
    sections = []
    for region in window.regions:
        if region.slug not in chosen:
            continue
        items = [a for a in window.articles if region.slug in a.region_slugs and a.id not in shown]
        if items:
            shown.update(a.id for a in items)
            sections.append(DigestSection(region=region, articles=tuple(items)))
    return tuple(sections)


def body_content(
    window: Window, reader_regions: Sequence[str]
) -> tuple[tuple[DigestSection, ...], ArticleItem | None] | None:
    """The sections and the top story of a body for these regions; None when both are empty."""
    sections = assemble(window, reader_regions)
    pinned = window.pinned if window.pinned_for(reader_regions) else None
    if not sections and pinned is None:
        return None
    return sections, pinned


def article_ids(sections: Sequence[DigestSection]) -> tuple[int, ...]:
    return tuple(a.id for section in sections for a in section.articles)


def menu_order(window: Window, slugs: Iterable[str]) -> tuple[str, ...]:
    """A reader's regions as a canonical cache key: known slugs, in menu order, once each."""
    chosen = set(slugs)
    return tuple(r.slug for r in window.regions if r.slug in chosen)
