"""The dashboard's figures: readers over the weeks, readers per region, feeds in error,
articles awaiting a region, what the next weekly edition would send now, and why readers
leave."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from newsletter.admin.labels import region_name
from newsletter.clicks import figures
from newsletter.digests.dry_run import dry_run
from newsletter.digests.editions import weekly_draft
from newsletter.models import (
    Article,
    ConsentEvent,
    ConsentKind,
    Digest,
    Feed,
    LeaveComment,
    LeaveReason,
    LeaveReasonCount,
    Region,
    Subscriber,
    SubscriberStatus,
    article_regions,
    db,
    subscriber_regions,
    utcnow,
)

WEEKS = 12
# What each line of the chart counts: the consent events that move a reader in or out.
FLOWS = (
    ("confirmed", _l("Confirmed"), (ConsentKind.CONFIRM, ConsentKind.IMPORT)),
    ("unsubscribed", _l("Unsubscribed"), (ConsentKind.UNSUBSCRIBE,)),
    ("bounced", _l("Bouncing addresses"), (ConsentKind.BOUNCE,)),
    ("complained", _l("Complaints"), (ConsentKind.COMPLAINT,)),
)


@dataclass(frozen=True)
class Weekly:
    weeks: list[date]  # the Monday of each week, oldest first
    counts: dict[str, list[int]]  # flow key -> one count per week


def weekly_flows(*, region: str | None = None, now: datetime | None = None) -> Weekly:
    """Readers confirmed, unsubscribed, bounced and complaining, week by week (UTC days).

    With `region`: only readers who follow it now (an erased reader's events name no one)."""
    today = (now or utcnow()).date()
    first = today - timedelta(days=today.weekday() + 7 * (WEEKS - 1))
    weeks = [first + timedelta(weeks=n) for n in range(WEEKS)]
    day = sa.func.date(ConsentEvent.at)
    query = (
        sa.select(day, ConsentEvent.kind, sa.func.count())
        .where(ConsentEvent.at >= datetime.combine(first, time.min, tzinfo=UTC))
        .group_by(day, ConsentEvent.kind)
    )
    if region is not None:
        followers = (
            sa.select(subscriber_regions.c.subscriber_id)
            .join(Region, Region.id == subscriber_regions.c.region_id)
            .where(Region.slug == region)
        )
        query = query.where(ConsentEvent.subscriber_id.in_(followers))
    per_kind: dict[str, list[int]] = defaultdict(lambda: [0] * WEEKS)
    kinds = {kind: key for key, _, members in FLOWS for kind in members}
    for raw_day, kind, count in db.session.execute(query):
        key = kinds.get(ConsentKind(kind))
        index = (_as_date(raw_day) - first).days // 7
        if key is not None and 0 <= index < WEEKS:
            per_kind[key][index] += int(count)
    return Weekly(weeks, {key: per_kind[key] for key, _, _ in FLOWS})


def _as_date(value: Any) -> date:
    # SQLite's date() is text, PostgreSQL's a date.
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def readers_by_status() -> dict[str, int]:
    counts = {status.value: 0 for status in SubscriberStatus}
    for status, count in db.session.execute(
        sa.select(Subscriber.status, sa.func.count()).group_by(Subscriber.status)
    ):
        counts[SubscriberStatus(status).value] = int(count)
    return counts


def confirmed_per_region() -> list[tuple[Region, int]]:
    """Every region in menu order with its confirmed readers."""
    confirmed = (
        sa.select(subscriber_regions.c.region_id, sa.func.count().label("n"))
        .join(Subscriber, Subscriber.id == subscriber_regions.c.subscriber_id)
        .where(Subscriber.status == SubscriberStatus.CONFIRMED)
        .group_by(subscriber_regions.c.region_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Region, sa.func.coalesce(confirmed.c.n, 0))
        .outerjoin(confirmed, confirmed.c.region_id == Region.id)
        .order_by(Region.position)
    ).all()
    return [(region, int(count)) for region, count in rows]


def feeds_in_error() -> list[Feed]:
    """Active feeds whose last poll failed (an error newer than their last success)."""
    return list(
        db.session.execute(
            sa.select(Feed)
            .where(
                Feed.active.is_(True),
                Feed.last_error_at.is_not(None),
                sa.or_(Feed.last_success_at.is_(None), Feed.last_error_at > Feed.last_success_at),
            )
            .order_by(Feed.last_error_at.desc())
        ).scalars()
    )


def awaiting_region() -> int:
    """Articles no region claims: no reader gets them until an editor picks one."""
    claimed = sa.select(article_regions.c.article_id)
    return int(
        db.session.execute(
            sa.select(sa.func.count()).select_from(Article).where(Article.id.not_in(claimed))
        ).scalar_one()
    )


@dataclass(frozen=True)
class NextWeekly:
    readers: int  # readers who would get a letter
    without_news: int  # readers with nothing new in their regions
    articles: list[tuple[str, int]]  # region name -> articles in the window


def next_weekly() -> NextWeekly:
    """The weekly edition as it would be made now (nothing stored)."""
    draft = weekly_draft()
    rows = dry_run(draft)
    window_counts: dict[str, int] = defaultdict(int)
    window = _window_articles(draft.window_start, draft.window_end)
    for slug in window:
        window_counts[slug] += 1
    slugs = db.session.execute(sa.select(Region.slug).order_by(Region.position)).scalars()
    return NextWeekly(
        readers=sum(r.readers for r in rows if r.articles),
        without_news=sum(r.readers for r in rows if not r.articles),
        articles=[(region_name(slug), window_counts[slug]) for slug in slugs],
    )


def _window_articles(start: datetime, end: datetime) -> list[str]:
    """One region slug per (article, region) published in the window."""
    return list(
        db.session.execute(
            sa.select(Region.slug)
            .join(article_regions, article_regions.c.region_id == Region.id)
            .join(Article, Article.id == article_regions.c.article_id)
            .where(Article.published_at >= start, Article.published_at < end)
        ).scalars()
    )


@dataclass(frozen=True)
class EditionTrend:
    """One edition of the dashboard's trend, oldest first: anonymous counts only."""

    digest: Digest
    delivered: int
    clicks: int
    per_thousand: float
    unsubscribed: int
    complained: int


def edition_trend(digests: list[Digest]) -> list[EditionTrend]:
    """Clicks per 1,000 delivered, unsubscribes and complaints of these editions, oldest first;
    only editions that went out (a letter delivered)."""
    ids = [digest.id for digest in digests]
    sent, clicks, left = figures.delivered(ids), figures.total_clicks(ids), figures.leavers(ids)
    return [
        EditionTrend(
            digest=digest,
            delivered=sent[digest.id],
            clicks=clicks[digest.id],
            per_thousand=figures.per_thousand(clicks[digest.id], sent[digest.id]),
            unsubscribed=left[digest.id].unsubscribed,
            complained=left[digest.id].complained,
        )
        for digest in sorted(digests, key=lambda d: d.id)
        if sent[digest.id]
    ]


LEAVE_MONTHS = 12
LAST_COMMENTS = 20


@dataclass(frozen=True)
class LeaveReasons:
    months: list[date]  # the first day of each month, oldest first, this month last
    counts: dict[LeaveReason, list[int]]  # one count per month


def leave_reasons(*, this_month: date) -> LeaveReasons:
    """Answers per reason over the LEAVE_MONTHS months ending with `this_month` (a first day)."""
    months = [_months_before(this_month, n) for n in reversed(range(LEAVE_MONTHS))]
    counts = {reason: [0] * LEAVE_MONTHS for reason in LeaveReason}
    rows = db.session.execute(
        sa.select(LeaveReasonCount).where(
            LeaveReasonCount.month >= months[0], LeaveReasonCount.month <= this_month
        )
    ).scalars()
    index = {month: i for i, month in enumerate(months)}
    for row in rows:
        if row.month in index:
            counts[row.reason][index[row.month]] = row.count
    return LeaveReasons(months, counts)


def _months_before(month: date, n: int) -> date:
    total = month.year * 12 + month.month - 1 - n
    return date(total // 12, total % 12 + 1, 1)


def leave_comments(*, limit: int = LAST_COMMENTS) -> list[LeaveComment]:
    """The latest comments, newest first: month, reason and text, nothing else is kept."""
    return list(
        db.session.execute(
            sa.select(LeaveComment).order_by(LeaveComment.id.desc()).limit(limit)
        ).scalars()
    )
