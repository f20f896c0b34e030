"""Upserting articles by guid: what every source (feed, API, page) ends with."""

from __future__ import annotations

import html
from dataclasses import dataclass, field, replace
from datetime import datetime

from newsletter.ingest.clean import cut_lead, plain_text
from newsletter.models import Article, Region, Section, article_regions, db, utcnow

# The column sizes of articles (see models/article.py).
MAX_URL, MAX_TITLE, MAX_AUTHOR = 2000, 500, 200
# A summary is a lead, not the article: the API refuses longer ones, other sources are cut.
MAX_SUMMARY = 10_000


@dataclass(frozen=True)
class ArticleData:
    guid: str
    url: str
    title: str
    # None: the source gave no date; the article keeps the time it was first seen.
    published_at: datetime | None
    lead: str = ""
    lead_html: str = ""
    author: str | None = None
    section: Section | None = None
    image_url: str | None = None
    region_slugs: tuple[str, ...] = ()
    tags: tuple[str, ...] = field(default=())


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def upsert_article(data: ArticleData, *, feed_id: int | None = None) -> tuple[Article, str]:
    """Create or update one article; returns it and 'created', 'updated' or 'unchanged'.

    The caller commits: a feed is stored whole or not at all.
    """
    article = db.session.execute(
        db.select(Article).where(Article.guid == data.guid)
    ).scalar_one_or_none()
    return _upsert(data, article, _regions(data.region_slugs), feed_id=feed_id)


def upsert_articles(items: list[ArticleData], *, feed_id: int | None = None) -> UpsertResult:
    """Upsert many articles with one query for those already stored, not one per article."""
    result = UpsertResult()
    regions = {r.slug: r for r in db.session.execute(db.select(Region)).scalars()}
    known: dict[str, Article] = {}
    guids = list({data.guid for data in items})
    for start in range(0, len(guids), 500):  # within every backend's bound-parameter limit
        chunk = guids[start : start + 500]
        rows = db.session.execute(db.select(Article).where(Article.guid.in_(chunk))).scalars()
        known.update((article.guid, article) for article in rows)
    for data in items:
        wanted = sorted(
            (regions[slug] for slug in set(data.region_slugs) if slug in regions),
            key=lambda region: region.position,
        )
        # A guid twice in one document updates the article its first occurrence created.
        article, outcome = _upsert(data, known.get(data.guid), wanted, feed_id=feed_id)
        known[data.guid] = article
        result.add(outcome)
    return result


def _upsert(
    data: ArticleData, article: Article | None, regions: list[Region], *, feed_id: int | None
) -> tuple[Article, str]:
    data = fit_columns(data)
    values: dict[str, object] = {
        "url": data.url,
        "title": data.title,
        "lead": data.lead,
        "lead_html": data.lead_html,
        "author": data.author,
        "section": data.section,
        "image_url": data.image_url,
        "tags": list(data.tags),
    }
    if data.published_at is not None:
        values["published_at"] = data.published_at
    if article is None:
        seen_at = utcnow()
        values.setdefault("published_at", seen_at)
        article = Article(
            guid=data.guid, feed_id=feed_id, regions=regions, first_seen_at=seen_at, **values
        )
        db.session.add(article)
        return article, "created"
    if data.section is None:
        # A source that names no section leaves the one an editor chose.
        del values["section"]
    changed = [k for k, v in values.items() if getattr(article, k) != v]
    # An editor may have given regions to an article the feed left without: keep theirs.
    if regions and {r.id for r in regions} != {r.id for r in article.regions}:
        article.regions = regions
        changed.append("regions")
    for key in changed:
        if key != "regions":
            setattr(article, key, values[key])
    return article, "updated" if changed else "unchanged"


def fit_columns(data: ArticleData) -> ArticleData:
    """Cut what a source made too long for its column: one long title must not fail a feed."""
    image = data.image_url if data.image_url and len(data.image_url) <= MAX_URL else None
    author = data.author[:MAX_AUTHOR].strip() if data.author else None
    lead_html = data.lead_html
    if len(lead_html) > MAX_SUMMARY:
        # Cutting HTML would leave tags open: keep the start of its text instead.
        lead_html = f"<p>{html.escape(cut_lead(plain_text(lead_html), MAX_SUMMARY // 2))}</p>"
    return replace(
        data,
        title=cut_lead(data.title, MAX_TITLE),
        author=author,
        image_url=image,
        lead_html=lead_html,
    )


def _regions(slugs: tuple[str, ...]) -> list[Region]:
    if not slugs:
        return []
    found = db.session.execute(db.select(Region).where(Region.slug.in_(slugs))).scalars().all()
    return sorted(found, key=lambda region: region.position)


def assign_regions(article_id: int, slugs: list[str], *, commit: bool = True) -> Article:
    """An editor gives an article its regions; later polls keep them unless the feed names some."""
    article = db.session.get(Article, article_id)
    if article is None:
        raise LookupError(article_id)
    regions = _regions(tuple(slugs))
    if not regions or len(regions) != len(set(slugs)):
        raise ValueError("choose one or more known regions")
    article.regions = regions
    if commit:
        db.session.commit()
    return article


def edit_article(article_id: int, *, region_slugs: list[str], section: Section | None) -> Article:
    """An editor sets an article's regions and section; feeds that name none keep them."""
    article = assign_regions(article_id, region_slugs, commit=False)
    article.section = section
    db.session.commit()
    return article


def articles_awaiting_region(*, limit: int = 200) -> list[Article]:
    """Articles no regional digest carries until an editor gives them a region, newest first."""
    with_region = db.select(article_regions.c.article_id)
    return list(
        db.session.execute(
            db.select(Article)
            .where(~Article.id.in_(with_region))
            .order_by(Article.published_at.desc())
            .limit(limit)
        ).scalars()
    )
