"""What editors read of an edition after its sending: clicks, delivered letters, and the
readers who left after it. Read only; every figure is a count, none names a reader."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from newsletter.clicks.refs import TOP
from newsletter.models import (
    Article,
    ClickCount,
    ConsentEvent,
    ConsentKind,
    Delivery,
    DeliveryState,
    Digest,
    Region,
    db,
    subscriber_regions,
)


@dataclass(frozen=True)
class ArticleClicks:
    article_id: int
    title: str  # empty when the article is no longer stored
    by_section: dict[str, int]
    total: int


@dataclass(frozen=True)
class SectionClicks:
    section: str  # a region's slug, or TOP
    clicks: int
    delivered: int  # letters sent to readers who follow that region now (TOP: every letter)


@dataclass(frozen=True)
class Leavers:
    unsubscribed: int = 0
    complained: int = 0


def per_thousand(clicks: int, delivered: int) -> float:
    """Clicks per 1,000 letters delivered, one decimal."""
    return round(clicks * 1000 / delivered, 1) if delivered else 0.0


def delivered(digest_ids: list[int]) -> dict[int, int]:
    """Letters the relay accepted, per edition."""
    found = {digest_id: 0 for digest_id in digest_ids}
    rows = db.session.execute(
        sa.select(Delivery.digest_id, sa.func.count())
        .where(Delivery.digest_id.in_(digest_ids), Delivery.state == DeliveryState.SENT)
        .group_by(Delivery.digest_id)
    )
    for digest_id, count in rows:
        found[digest_id] = int(count)
    return found


def total_clicks(digest_ids: list[int]) -> dict[int, int]:
    found = {digest_id: 0 for digest_id in digest_ids}
    rows = db.session.execute(
        sa.select(ClickCount.digest_id, sa.func.sum(ClickCount.clicks))
        .where(ClickCount.digest_id.in_(digest_ids))
        .group_by(ClickCount.digest_id)
    )
    for digest_id, count in rows:
        found[digest_id] = int(count or 0)
    return found


def article_clicks(digest_id: int) -> list[ArticleClicks]:
    """Each clicked article with its clicks per section, the most clicked first."""
    rows = db.session.execute(
        sa.select(ClickCount.article_id, ClickCount.section, ClickCount.clicks, Article.title)
        .outerjoin(Article, Article.id == ClickCount.article_id)
        .where(ClickCount.digest_id == digest_id)
    ).all()
    sections: dict[int, dict[str, int]] = defaultdict(dict)
    titles: dict[int, str] = {}
    for article_id, section, clicks, title in rows:
        sections[article_id][section] = int(clicks)
        titles[article_id] = title or ""
    made = [
        ArticleClicks(article_id, titles[article_id], by_section, sum(by_section.values()))
        for article_id, by_section in sections.items()
    ]
    return sorted(made, key=lambda a: (-a.total, a.article_id))


def section_clicks(digest_id: int, articles: list[ArticleClicks]) -> list[SectionClicks]:
    """Clicks per section of the letter against the letters that had it, in menu order.

    The ledger keeps no region per letter: a region's letters are those sent to readers who
    follow it now, an approximation once readers change their regions (docs/clicks.md)."""
    clicks: dict[str, int] = defaultdict(int)
    for article in articles:
        for section, count in article.by_section.items():
            clicks[section] += count
    sent = (Delivery.digest_id == digest_id) & (Delivery.state == DeliveryState.SENT)
    per_region = dict(
        db.session.execute(
            sa.select(Region.slug, sa.func.count())
            .select_from(Delivery)
            .join(subscriber_regions, subscriber_regions.c.subscriber_id == Delivery.subscriber_id)
            .join(Region, Region.id == subscriber_regions.c.region_id)
            .where(sent)
            .group_by(Region.slug)
        ).all()
    )
    order = db.session.execute(sa.select(Region.slug).order_by(Region.position)).scalars()
    total = delivered([digest_id])[digest_id]
    made = [SectionClicks(TOP, clicks[TOP], total)] if clicks.get(TOP) else []
    made += [
        SectionClicks(slug, clicks.get(slug, 0), int(per_region.get(slug, 0)))
        for slug in order
        if clicks.get(slug) or per_region.get(slug)
    ]
    return made


def leavers(digest_ids: list[int]) -> dict[int, Leavers]:
    """Unsubscribes and complaints attributed to each edition: those of readers whose last
    letter before leaving was that edition's (the one-click link and the complaint report
    both come from a letter, the last one being the likeliest). Erased readers drop out."""
    found = {digest_id: Leavers() for digest_id in digest_ids}
    if not digest_ids:
        return found
    letter, later = aliased(Delivery), aliased(Delivery)
    # Probes go through the unique (digest_id, subscriber_id) key, one per edition: there is
    # no index on a reader's deliveries alone, and a million rows per edition to avoid.
    sent_editions = sa.select(Digest.id).where(Digest.started_at.is_not(None))
    newer_letter = (
        sa.select(later.id)
        .where(
            later.digest_id.in_(sent_editions.scalar_subquery()),
            later.subscriber_id == letter.subscriber_id,
            later.state == DeliveryState.SENT,
            later.sent_at > letter.sent_at,
            later.sent_at <= ConsentEvent.at,
        )
        .exists()
    )
    rows = db.session.execute(
        sa.select(letter.digest_id, ConsentEvent.kind, sa.func.count())
        .select_from(ConsentEvent)
        .join(
            letter,
            (letter.digest_id.in_(digest_ids))
            & (letter.subscriber_id == ConsentEvent.subscriber_id)
            & (letter.state == DeliveryState.SENT)
            & (letter.sent_at <= ConsentEvent.at),
        )
        .where(
            ConsentEvent.kind.in_([ConsentKind.UNSUBSCRIBE, ConsentKind.COMPLAINT]),
            ~newer_letter,
        )
        .group_by(letter.digest_id, ConsentEvent.kind)
    ).all()
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for digest_id, kind, count in rows:
        counts[digest_id][str(ConsentKind(kind))] = int(count)
    for digest_id, by_kind in counts.items():
        found[digest_id] = Leavers(
            unsubscribed=by_kind.get(ConsentKind.UNSUBSCRIBE.value, 0),
            complained=by_kind.get(ConsentKind.COMPLAINT.value, 0),
        )
    return found
