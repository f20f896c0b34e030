"""What editors read of an edition after its sending: clicks, delivered letters, and the
readers who left after it. Read only; every figure is a count, none names a reader."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from newsletter import ledger
from newsletter.clicks.refs import TOP
from newsletter.clicks.sections import TOP_BIT, letter_sections
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
    delivered: int  # letters delivered with that section


@dataclass(frozen=True)
class Leavers:
    unsubscribed: int = 0
    complained: int = 0


def per_thousand(clicks: int, delivered: int) -> float:
    """Clicks per 1,000 letters delivered, one decimal."""
    return round(clicks * 1000 / delivered, 1) if delivered else 0.0


def delivered(digest_ids: list[int]) -> dict[int, int]:
    """Letters the relay accepted, per edition."""
    counts = ledger.state_counts(digest_ids, (DeliveryState.SENT,))
    return {digest_id: by_state[DeliveryState.SENT.value] for digest_id, by_state in counts.items()}


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
    """Clicks per section of the letter against the letters that had it, in menu order."""
    clicks: dict[str, int] = defaultdict(int)
    for article in articles:
        for section, count in article.by_section.items():
            clicks[section] += count
    regions = [
        (int(id_), str(slug))
        for id_, slug in db.session.execute(
            sa.select(Region.id, Region.slug).order_by(Region.position)
        )
    ]
    letters = letters_per_section(digest_id, regions)
    made = [SectionClicks(TOP, clicks[TOP], letters[TOP])] if clicks.get(TOP) else []
    made += [
        SectionClicks(slug, clicks.get(slug, 0), letters.get(slug, 0))
        for _, slug in regions
        if clicks.get(slug) or letters.get(slug)
    ]
    return made


def letters_per_section(digest_id: int, regions: Sequence[tuple[int, str]]) -> dict[str, int]:
    """How many delivered letters had each section (TOP: the pinned story), from the edition's
    letters per sections mask (recorded with each letter: clicks/sections.py)."""
    masks = ledger.sent_sections(digest_id)
    unrecorded = masks.get(ledger.UNRECORDED, 0)
    recorded = {int(mask): n for mask, n in masks.items() if mask != ledger.UNRECORDED}
    # A letter without recorded sections (sent before they were): its pinned story is
    # unknown, counted as every letter's.
    letters = {TOP: sum(n for mask, n in recorded.items() if mask & TOP_BIT) + unrecorded}
    for region_id, slug in regions:
        bit = letter_sections([region_id], pinned=False)
        letters[slug] = sum(n for mask, n in recorded.items() if mask & bit)
    if unrecorded:
        for slug, n in _unrecorded_letters(digest_id).items():
            letters[slug] = letters.get(slug, 0) + n
    return letters


def _unrecorded_letters(digest_id: int) -> dict[str, int]:
    """Letters without recorded sections (sent by an earlier version): a region's are those
    sent to the readers who follow it today, an approximation (docs/clicks.md)."""
    rows = db.session.execute(
        sa.select(Region.slug, sa.func.count())
        .select_from(Delivery)
        .join(subscriber_regions, subscriber_regions.c.subscriber_id == Delivery.subscriber_id)
        .join(Region, Region.id == subscriber_regions.c.region_id)
        .where(
            Delivery.digest_id == digest_id,
            Delivery.state == DeliveryState.SENT,
            Delivery.sections.is_(None),
        )
        .group_by(Region.slug)
    ).all()
    return {slug: int(n) for slug, n in rows}


def leavers(digest_ids: list[int]) -> dict[int, Leavers]:
    """Unsubscribes and complaints attributed to each edition: those made from its letter (its
    unsubscribe link, a complaint quoting its Message-ID: the event names the edition), and,
    for events that name none, those of readers whose last letter before leaving was its."""
    found = {digest_id: Leavers() for digest_id in digest_ids}
    if not digest_ids:
        return found
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for digest_id, kind, count in (*_named_leavers(digest_ids), *_last_letter_leavers(digest_ids)):
        counts[digest_id][str(ConsentKind(kind))] += int(count)
    for digest_id, by_kind in counts.items():
        found[digest_id] = Leavers(
            unsubscribed=by_kind.get(ConsentKind.UNSUBSCRIBE.value, 0),
            complained=by_kind.get(ConsentKind.COMPLAINT.value, 0),
        )
    return found


_LEAVING = (ConsentKind.UNSUBSCRIBE, ConsentKind.COMPLAINT)


def _named_leavers(digest_ids: list[int]) -> list[tuple[int, str, int]]:
    """(edition, kind, count) of the events that name their edition; an erased reader's
    event keeps it and still counts (it names no one)."""
    rows = db.session.execute(
        sa.select(ConsentEvent.digest_id, ConsentEvent.kind, sa.func.count())
        .where(ConsentEvent.digest_id.in_(digest_ids), ConsentEvent.kind.in_(_LEAVING))
        .group_by(ConsentEvent.digest_id, ConsentEvent.kind)
    )
    return [(int(d or 0), str(kind), int(n)) for d, kind, n in rows]


def _last_letter_leavers(digest_ids: list[int]) -> list[tuple[int, str, int]]:
    """(edition, kind, count) of the events that name no edition (links of letters sent by an
    earlier version, a confirmation email's manage link), given to the reader's last letter
    before the event. Not the console's: an admin's act is no reaction to a letter. Erased
    readers' events name no one and drop out."""
    since = db.session.execute(
        sa.select(sa.func.min(Digest.started_at)).where(Digest.id.in_(digest_ids))
    ).scalar()
    if since is None:
        return []
    # Driven by the events since the first listed edition went out (few, by the index on
    # kind and time): each finds its reader's last letter by probing the unique (digest_id,
    # subscriber_id) key once per edition that was sending since. A join from the editions'
    # rows instead read every row of every listed edition: a million each, at scale.
    sending_since = sa.select(Digest.id).where(
        Digest.started_at.is_not(None),
        sa.or_(Digest.finished_at.is_(None), Digest.finished_at >= since),
    )
    last_letter = (
        sa.select(Delivery.digest_id)
        .where(
            Delivery.digest_id.in_(sending_since.scalar_subquery()),
            Delivery.subscriber_id == ConsentEvent.subscriber_id,
            Delivery.state == DeliveryState.SENT,
            Delivery.sent_at <= ConsentEvent.at,
        )
        .order_by(Delivery.sent_at.desc())
        .limit(1)
        .correlate(ConsentEvent)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(last_letter, ConsentEvent.kind).where(
            ConsentEvent.kind.in_(_LEAVING),
            ConsentEvent.at >= since,
            ConsentEvent.digest_id.is_(None),
            ConsentEvent.subscriber_id.is_not(None),
            ~ConsentEvent.source.startswith("console:"),
        )
    )
    listed = set(digest_ids)
    counted = Counter((int(d), str(kind)) for d, kind in rows if d in listed)
    return [(d, kind, n) for (d, kind), n in counted.items()]
