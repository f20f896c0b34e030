"""Feeds: parse RSS 0.9x-2.0, RSS 1.0 and Atom with feedparser into articles, and store them."""

from __future__ import annotations

import calendar
import html
import re
import xml.sax
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from flask import current_app

from newsletter.ingest.articles import MAX_URL, ArticleData, UpsertResult, upsert_articles
from newsletter.ingest.classify import classify
from newsletter.ingest.clean import cut_lead, plain_text, sanitize_html
from newsletter.ingest.decode import to_utf8
from newsletter.models import db

# WordPress ends cut summaries with "[…]": the lead ends with an ellipsis instead.
_WORDPRESS_MORE = re.compile(r"\s*\[(?:…|\.\.\.)\]\s*$")
_XML_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<(?:\?xml|rss|feed|rdf:RDF)[\s>]")
_HTML_PAGE = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.I | re.S)


class FeedError(Exception):
    """The document is not a feed we can read; nothing of it was stored."""


@dataclass(frozen=True)
class IngestOptions:
    lead_length: int = 300
    region_aliases: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls) -> IngestOptions:
        config = current_app.config
        return cls(lead_length=config["LEAD_LENGTH"], region_aliases=config["REGION_ALIASES"])


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    articles: list[ArticleData]
    # What the editors should hear about although the feed was read: skipped items, bad charset.
    problems: list[str]


def parse_feed(
    document: bytes,
    *,
    url: str | None = None,
    content_type: str | None = None,
    options: IngestOptions | None = None,
) -> ParsedFeed:
    """Every entry of a feed document as ArticleData; raises FeedError if it is not a feed."""
    options = options or IngestOptions()
    head = document[:2000]
    # Some servers label their feed text/html: the bytes decide, the label only breaks a tie.
    if _HTML_PAGE.match(head) or (
        "html" in (content_type or "").lower() and not _XML_START.match(head)
    ):
        raise FeedError("an HTML page, not a feed")
    decoded = to_utf8(document, content_type=content_type)
    parsed = feedparser.parse(decoded.document, response_headers={"content-location": url or ""})
    if isinstance(parsed.get("bozo_exception"), xml.sax.SAXException):
        # Not well-formed: a truncated or broken document may yield only some of its items.
        raise FeedError(f"invalid XML: {parsed.bozo_exception}")
    if not parsed.version:
        raise FeedError("not an RSS or Atom feed")
    base = parsed.feed.get("link") or url
    problems = [decoded.problem] if decoded.problem else []
    articles, without_link, without_title = [], 0, 0
    for entry in parsed.entries:
        data = entry_to_article(entry, base_url=base, options=options)
        if isinstance(data, ArticleData):
            articles.append(data)
        elif data == "link":
            without_link += 1
        else:
            without_title += 1
    if without_link:
        problems.append(f"{without_link} item(s) without a link were skipped")
    if without_title:
        problems.append(f"{without_title} item(s) without a title were skipped")
    if parsed.entries and not articles:
        raise FeedError("; ".join(problems))
    return ParsedFeed(title=parsed.feed.get("title"), articles=articles, problems=problems)


def entry_to_article(
    entry: Any, *, base_url: str | None, options: IngestOptions
) -> ArticleData | str:
    """The article an entry describes, or why not: 'link' or 'title' missing."""
    link = _absolute(entry.get("link"), base_url)
    if link is None or len(link) > MAX_URL:
        return "link"
    guid = (entry.get("id") or "").strip()
    title = plain_text(entry.get("title") or "")
    if not title:
        return "title"
    summary = entry.get("summary") or ""
    lead_html = sanitize_html(summary, base_url=link)
    if summary and summary == _first_content(entry):
        # No summary: feedparser lent the full body. An email wants its first paragraph only.
        first = plain_text(lead_html).split("\n\n")[0]
        lead_html = f"<p>{html.escape(first)}</p>"
    found = classify(
        [tag.get("term") or "" for tag in entry.get("tags", [])], aliases=options.region_aliases
    )
    return ArticleData(
        guid=guid if guid and len(guid) <= MAX_URL else link,
        url=link,
        title=title,
        published_at=_utc(entry.get("published_parsed") or entry.get("updated_parsed")),
        lead=cut_lead(_WORDPRESS_MORE.sub("…", plain_text(lead_html)), options.lead_length),
        lead_html=lead_html,
        author=(entry.get("author") or "").strip() or None,
        section=found.section,
        image_url=_image(entry, base_url=link),
        region_slugs=tuple(found.region_slugs),
        tags=tuple(found.tags),
    )


def store_feed(parsed: ParsedFeed, *, feed_id: int | None = None) -> UpsertResult:
    """Upsert the articles; the caller commits, so a feed is stored whole or not at all."""
    return upsert_articles(parsed.articles, feed_id=feed_id)


def ingest_document(
    document: bytes, *, url: str | None = None, feed_id: int | None = None
) -> UpsertResult:
    """Parse and store one feed document in one transaction."""
    parsed = parse_feed(document, url=url, options=IngestOptions.from_config())
    try:
        result = store_feed(parsed, feed_id=feed_id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return result


def ingest_file(path: str | Path) -> UpsertResult:
    return ingest_document(Path(path).read_bytes())


def _absolute(link: str | None, base_url: str | None) -> str | None:
    link = (link or "").strip()
    if not link:
        return None
    target = urljoin(base_url, link) if base_url else link
    return target if urlsplit(target).scheme in {"http", "https"} else None


def _utc(parsed_time: Any) -> datetime | None:
    # feedparser normalises every date format and zone to a UTC struct_time.
    return datetime.fromtimestamp(calendar.timegm(parsed_time), UTC) if parsed_time else None


def _first_content(entry: Any) -> str:
    contents = entry.get("content") or []
    return str(contents[0].get("value", "")) if contents else ""


def _image(entry: Any, *, base_url: str) -> str | None:
    candidates = [m.get("url") for m in entry.get("media_thumbnail", [])]
    candidates += [
        m.get("url") for m in entry.get("media_content", []) if m.get("medium") == "image"
    ]
    candidates += [
        e.get("href")
        for e in entry.get("enclosures", [])
        if (e.get("type") or "").startswith("image/")
    ]
    for candidate in candidates:
        if image := _absolute(candidate, base_url):
            return image
    return None
