"""Which editions the archive shows: sent, with at least one letter delivered, not hidden.

Planned, sending, paused and cancelled editions never appear, nor an edition every letter of
which failed: the archive shows what readers received. Editors hide one with archive_hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from newsletter.admin.archived import archived
from newsletter.models import Article, Digest, Region, article_regions, db

PAGE_SIZE = 20
FEED_SIZE = 20


@dataclass(frozen=True)
class ArchivePage:
    editions: list[Digest]
    more: bool


def _archived() -> sa.Select[Digest]:
    # The rule is shared with the console's link to an edition's archive page.
    return db.select(Digest).where(archived()).order_by(Digest.finished_at.desc(), Digest.id.desc())


def _with_news_in(region: str) -> sa.ColumnElement[bool]:
    """The edition's window holds an article of this region (correlated on the digest)."""
    return (
        sa.exists()
        .where(Article.id == article_regions.c.article_id)
        .where(article_regions.c.region_id == Region.id)
        .where(Region.slug == region)
        .where(Article.published_at >= Digest.window_start)
        .where(Article.published_at < Digest.window_end)
    )


def covers(digest: Digest, region: str) -> bool:
    """An edition limited to some regions covers those only; otherwise every region."""
    return not digest.region_slugs or region in digest.region_slugs


def archive_page(page: int, *, region: str | None = None) -> ArchivePage:
    """A page of the archive, newest first; with a region, the editions that covered it."""
    query = _archived()
    if region is None:
        rows = db.session.execute(
            query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
        ).scalars()
        found = list(rows)
    else:
        # The region limits are JSON (a list, or null for every region): compared here rather
        # than in SQL, which reads JSON differently on SQLite and PostgreSQL. A few hundred
        # editions at most: the whole list is cheap.
        rows = db.session.execute(query.where(_with_news_in(region))).scalars()
        covering = [digest for digest in rows if covers(digest, region)]
        found = covering[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1]
    return ArchivePage(editions=found[:PAGE_SIZE], more=len(found) > PAGE_SIZE)


def archived_edition(digest_id: int, *, region: str | None = None) -> Digest | None:
    """The edition if the archive shows it (in this region's pages, with a region)."""
    query = _archived().where(Digest.id == digest_id)
    if region is not None:
        query = query.where(_with_news_in(region))
    digest = db.session.execute(query).scalar_one_or_none()
    if digest is None or (region is not None and not covers(digest, region)):
        return None
    return digest


def latest_edition() -> Digest | None:
    return db.session.execute(_archived().limit(1)).scalar_one_or_none()
