"""Polling registered feeds: one transaction per feed; a broken feed records why and stops there."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from newsletter import jobs
from newsletter.ingest.articles import UpsertResult
from newsletter.ingest.feeds import FeedError, IngestOptions, ParsedFeed, parse_feed, store_feed
from newsletter.ingest.fetch import Fetched, FetchError, FetchLimits, fetch
from newsletter.models import Article, Feed, db, utcnow
from newsletter.models.base import execute_dml

log = logging.getLogger(__name__)
MAX_ERROR_LENGTH = 1000


class PollStatus(enum.StrEnum):
    STORED = "stored"
    NOT_MODIFIED = "not-modified"
    FAILED = "failed"
    SKIPPED = "skipped"  # inactive or deleted since it was enqueued


@dataclass(frozen=True)
class PollOutcome:
    status: PollStatus
    result: UpsertResult | None = None
    error: str | None = None


def add_feed(url: str, *, title: str | None = None) -> tuple[Feed, bool]:
    """Register a feed URL (idempotent); returns it and whether it is new."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    feed = db.session.execute(db.select(Feed).where(Feed.url == url)).scalar_one_or_none()
    if feed is not None:
        feed.active = True
        db.session.commit()
        return feed, False
    feed = Feed(url=url, title=title)
    db.session.add(feed)
    db.session.commit()
    return feed, True


def set_feed_active(feed_id: int, *, active: bool) -> Feed:
    """Pause or resume a feed: a paused feed is skipped by every poll; its articles stay."""
    feed = db.session.get(Feed, feed_id)
    if feed is None:
        raise LookupError(feed_id)
    feed.active = active
    db.session.commit()
    return feed


def remove_feed(feed_id: int) -> int:
    """Forget a feed; its articles stay, detached from it. Returns how many were detached.

    Detached here rather than left to the foreign key's SET NULL, so the count is the one
    shown to the editor. A poll already under way finds the feed gone and stores nothing.
    """
    feed = db.session.get(Feed, feed_id)
    if feed is None:
        raise LookupError(feed_id)
    detached = execute_dml(
        sa.update(Article).where(Article.feed_id == feed_id).values(feed_id=None)
    ).rowcount
    db.session.delete(feed)
    db.session.commit()
    return detached


def poll_now(feed_id: int) -> Feed:
    """An editor's "poll now": the usual poll task, sent after this commit.

    A paused feed is refused (ValueError) rather than queued: the task would skip it.
    """
    feed = db.session.get(Feed, feed_id)
    if feed is None:
        raise LookupError(feed_id)
    if not feed.active:
        raise ValueError("the feed is paused")
    jobs.enqueue("ingest.poll_feed", feed.id)
    db.session.commit()
    return feed


def active_feed_ids() -> list[int]:
    return list(
        db.session.execute(db.select(Feed.id).where(Feed.active).order_by(Feed.id)).scalars()
    )


def enqueue_polls() -> int:
    """One `ingest.poll_feed` task per active feed, sent after this commit."""
    feed_ids = active_feed_ids()
    for feed_id in feed_ids:
        jobs.enqueue("ingest.poll_feed", feed_id)
    db.session.commit()
    return len(feed_ids)


def poll_feed(feed_id: int) -> PollOutcome:
    """Fetch, parse and store one feed; expected failures are recorded on the feed, not raised."""
    feed = db.session.get(Feed, feed_id)
    if feed is None or not feed.active:
        return PollOutcome(PollStatus.SKIPPED)
    url, etag, last_modified = feed.url, feed.etag, feed.last_modified
    # No transaction stays open while a slow server is waited for.
    db.session.rollback()
    try:
        fetched = fetch(
            url, limits=FetchLimits.from_config(), etag=etag, last_modified=last_modified
        )
        if fetched.not_modified:
            # Nothing changed upstream: no article is touched, only the time of the check.
            feed.last_polled_at = utcnow()
            db.session.commit()
            return PollOutcome(PollStatus.NOT_MODIFIED)
        parsed = parse_feed(
            fetched.content,
            url=fetched.url,
            content_type=fetched.content_type,
            options=IngestOptions.from_config(),
        )
    except (FetchError, FeedError) as exc:
        return _record_failure(feed_id, str(exc))
    try:
        try:
            result = _store(feed_id, parsed, fetched)
        except IntegrityError:
            # Another poll of this feed inserted the same guid first: again, as updates.
            db.session.rollback()
            result = _store(feed_id, parsed, fetched)
    except Exception as exc:
        # An unexpected failure (database...) is recorded for the editors, then rises.
        _record_failure(feed_id, f"could not store: {exc.__class__.__name__}: {exc}")
        raise
    if parsed.problems:
        log.warning("feed %s: %s", url, "; ".join(parsed.problems))
    return PollOutcome(PollStatus.STORED, result=result)


def _store(feed_id: int, parsed: ParsedFeed, fetched: Fetched) -> UpsertResult:
    """The articles and the feed's state, in one transaction."""
    feed = db.session.get(Feed, feed_id)
    if feed is None:
        raise LookupError(f"feed {feed_id} was deleted while it was polled")
    result = store_feed(parsed, feed_id=feed.id)
    now = utcnow()
    feed.title = feed.title or (parsed.title or "").strip()[:300] or None
    # Validators are saved with the articles: a failed store is fetched again in full.
    feed.etag, feed.last_modified = fetched.etag, fetched.last_modified
    feed.last_polled_at = feed.last_success_at = now
    feed.last_error = "; ".join(parsed.problems)[:MAX_ERROR_LENGTH] or None
    feed.last_error_at = now if parsed.problems else None
    db.session.commit()
    return result


def _record_failure(feed_id: int, error: str) -> PollOutcome:
    """Roll back what this poll wrote, then note the error in a transaction of its own."""
    db.session.rollback()
    feed = db.session.get(Feed, feed_id)
    if feed is not None:
        now = utcnow()
        feed.last_error, feed.last_error_at, feed.last_polled_at = (
            error[:MAX_ERROR_LENGTH],
            now,
            now,
        )
        db.session.commit()
        log.warning("feed %s failed: %s", feed.url, error)
    return PollOutcome(PollStatus.FAILED, error=error)
