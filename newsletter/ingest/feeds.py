"""Feeds: parse RSS/Atom with feedparser and upsert their entries as articles."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser

from newsletter.ingest.articles import ArticleData, UpsertResult, upsert_article
from newsletter.ingest.classify import classify
from newsletter.models import db, utcnow


class FeedError(Exception):
    """The document is not a feed we can read; nothing of it was stored."""


def ingest_file(path: str | Path) -> UpsertResult:
    return ingest_document(Path(path).read_bytes())


def ingest_document(document: bytes, *, feed_id: int | None = None) -> UpsertResult:
    """Upsert every entry of a feed document in one transaction."""
    parsed = feedparser.parse(document)
    if parsed.bozo and not parsed.entries:
        raise FeedError(f"not a readable feed: {parsed.get('bozo_exception')}")
    result = UpsertResult()
    seen_at = utcnow()
    for entry in parsed.entries:
        data = entry_to_article(entry, seen_at=seen_at)
        if data is not None:
            result.add(upsert_article(data, feed_id=feed_id)[1])
    db.session.commit()
    return result


def entry_to_article(entry: Any, *, seen_at: datetime) -> ArticleData | None:
    link = (entry.get("link") or "").strip()
    guid = (entry.get("id") or link).strip()
    title = (entry.get("title") or "").strip()
    if not guid or not link or not title:
        return None
    parsed_time = entry.get("published_parsed") or entry.get("updated_parsed")
    published = (
        datetime.fromtimestamp(calendar.timegm(parsed_time), UTC) if parsed_time else seen_at
    )
    categories = [tag.get("term", "") for tag in entry.get("tags", [])]
    found = classify(categories)
    return ArticleData(
        guid=guid,
        url=link,
        title=title,
        published_at=published,
        lead=(entry.get("summary") or "").strip(),
        author=(entry.get("author") or None),
        section=found.section,
        region_slugs=tuple(found.region_slugs),
        tags=tuple(found.tags),
    )
