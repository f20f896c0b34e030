"""Importing an article from its page: OpenGraph, JSON-LD and meta data read by trafilatura."""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import htmldate
import trafilatura
from flask import current_app

from newsletter.ingest.articles import ArticleData, upsert_article
from newsletter.ingest.classify import classify
from newsletter.ingest.clean import cut_lead, plain_text, sanitize_html
from newsletter.ingest.feeds import IngestOptions
from newsletter.ingest.fetch import ACCEPT_PAGE, FetchError, FetchLimits, fetch
from newsletter.models import Article, db

# Full time and zone when the page gives them (article:published_time, datePublished).
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


class PageError(Exception):
    """The page could not be read as an article; the message says why, for the editor."""


def import_page(source: str, *, content: bytes | None = None) -> tuple[Article, str]:
    """Import from a URL, a saved HTML file, or `content` (an upload named `source`)."""
    url: str | None = None
    if content is None and urlsplit(source).scheme in {"http", "https"}:
        try:
            fetched = fetch(source, limits=FetchLimits.from_config(), accept=ACCEPT_PAGE)
        except FetchError as exc:
            raise PageError(f"could not fetch {source}: {exc}") from None
        content, url = fetched.content, fetched.url
    elif content is None:
        path = Path(source)
        if not path.is_file():
            raise PageError(f"neither an http(s) URL nor a file: {source}")
        content = path.read_bytes()
    data = read_page(
        content,
        url=url,
        options=IngestOptions.from_config(),
        timezone=current_app.config["TIMEZONE"],
    )
    # The feed may know this article under its own guid: the page then updates that article.
    known = db.session.execute(
        db.select(Article.guid).where(Article.url == data.url).limit(1)
    ).scalar_one_or_none()
    if known is not None and known != data.guid:
        data = replace(data, guid=known)
    try:
        article, outcome = upsert_article(data)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return article, outcome


def read_page(
    document: bytes, *, url: str | None, options: IngestOptions, timezone: str = "UTC"
) -> ArticleData:
    """The article a page describes; raises PageError when it lacks a title or an address."""
    meta = trafilatura.extract_metadata(trafilatura.load_html(document), default_url=url)
    if meta is None or not (meta.title or "").strip():
        raise PageError("no article title found in the page")
    page_url = meta.url or url
    if not page_url or urlsplit(page_url).scheme not in {"http", "https"} or len(page_url) > 2000:
        raise PageError("the page gives no address of its own (canonical link or og:url)")
    summary = (meta.description or "").strip() or _first_paragraph(document)
    lead_html = sanitize_html(f"<p>{html.escape(summary)}</p>") if summary else ""
    found = classify([*(meta.categories or []), *(meta.tags or [])], aliases=options.region_aliases)
    image = urljoin(page_url, meta.image) if meta.image else None
    return ArticleData(
        guid=page_url,
        url=page_url,
        title=plain_text(meta.title or ""),
        published_at=_published_at(document, timezone),
        lead=cut_lead(summary, options.lead_length),
        lead_html=lead_html,
        author=(meta.author or "").strip() or None,
        section=found.section,
        image_url=image if image and urlsplit(image).scheme in {"http", "https"} else None,
        region_slugs=tuple(found.region_slugs),
        tags=tuple(found.tags),
    )


def _published_at(document: bytes, timezone: str) -> datetime | None:
    found = htmldate.find_date(
        trafilatura.load_html(document),
        outputformat=DATE_FORMAT,
        original_date=True,
        extensive_search=False,
    )
    if not found:
        return None
    moment = datetime.fromisoformat(found)
    # A day without a time or zone is a day on the site's clock.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(UTC)


def _first_paragraph(document: bytes) -> str:
    text = trafilatura.extract(
        trafilatura.load_html(document), include_comments=False, include_tables=False
    )
    paragraphs = [line.strip() for line in (text or "").splitlines() if len(line.strip()) > 40]
    return paragraphs[0] if paragraphs else ""
