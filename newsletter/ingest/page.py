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
from sqlalchemy.exc import IntegrityError

from newsletter import jobs
from newsletter.ingest.articles import ArticleData, upsert_article
from newsletter.ingest.classify import classify
from newsletter.ingest.clean import cut_lead, plain_text, sanitize_html
from newsletter.ingest.feeds import IngestOptions
from newsletter.ingest.fetch import ACCEPT_PAGE, FetchError, FetchLimits, fetch
from newsletter.models import Article, ImportState, PageImport, db, utcnow

# Full time and zone when the page gives them (article:published_time, datePublished).
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
MAX_ERROR_LENGTH = 1000


class PageError(Exception):
    """The page could not be read as an article; the message says why, for the editor."""


def import_page(source: str, *, content: bytes | None = None) -> tuple[Article, str]:
    """Import from a URL, a saved HTML file, or `content` (an upload named `source`)."""
    url: str | None = None
    if content is None and urlsplit(source).scheme in {"http", "https"}:
        content, url = _fetch_page(source)
    elif content is None:
        path = Path(source)
        if not path.is_file():
            raise PageError(f"neither an http(s) URL nor a file: {source}")
        content = path.read_bytes()
    try:
        article, outcome = _store_page(content, url=url)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return article, outcome


def queue_import(
    source: str, *, content: bytes | None = None, editor_id: int | None = None
) -> PageImport:
    """Record an editors' import and hand it to a worker once this commits.

    Without `content`, `source` must be an http(s) URL: a worker never reads local files.
    """
    if content is None and urlsplit(source).scheme not in {"http", "https"}:
        raise PageError(f"not an http(s) URL: {source}")
    limit = current_app.config["FEED_MAX_BYTES"]
    if content is not None and len(content) > limit:
        raise PageError(f"the file is larger than {limit} bytes")
    row = PageImport(
        source=source[:2000], uploaded=content is not None, content=content, editor_id=editor_id
    )
    db.session.add(row)
    db.session.flush()
    jobs.enqueue("ingest.import_page", row.id)
    db.session.commit()
    return row


def run_import(import_id: int) -> ImportState | None:
    """Do a queued import and record how it ended on its row (an unexpected error rises too).

    Run twice (a redelivered task), the second run finds the row finished and does nothing.
    """
    row = db.session.get(PageImport, import_id)
    if row is None or row.state is not ImportState.QUEUED:
        return None
    source, uploaded, content = row.source, row.uploaded, row.content
    # No transaction stays open while a slow server is waited for.
    db.session.rollback()
    try:
        url = None
        if not uploaded:
            content, url = _fetch_page(source)
        if content is None:
            raise PageError("the uploaded file was not kept")
        try:
            article, outcome = _store_page(content, url=url)
        except IntegrityError:
            # Another import of this page inserted it first: again, as an update.
            db.session.rollback()
            article, outcome = _store_page(content, url=url)
    except PageError as exc:
        return _finish(import_id, ImportState.FAILED, error=str(exc))
    except Exception as exc:
        # Unexpected (database...): the editor sees it failed, the worker's log says why.
        _finish(import_id, ImportState.FAILED, error=f"{exc.__class__.__name__}: {exc}")
        raise
    return _finish(import_id, ImportState.DONE, article_id=article.id, outcome=outcome)


def _finish(import_id: int, state: ImportState, **fields: object) -> ImportState:
    """The outcome, in the article's transaction when there is one; a failure in its own."""
    if state is ImportState.FAILED:
        db.session.rollback()
        fields["error"] = str(fields["error"])[:MAX_ERROR_LENGTH]
    row = db.session.get(PageImport, import_id)
    if row is not None:
        row.state, row.finished_at, row.content = state, utcnow(), None
        for name, value in fields.items():
            setattr(row, name, value)
    db.session.commit()
    return state


def _fetch_page(source: str) -> tuple[bytes, str]:
    try:
        fetched = fetch(source, limits=FetchLimits.from_config(), accept=ACCEPT_PAGE)
    except FetchError as exc:
        raise PageError(f"could not fetch {source}: {exc}") from None
    return fetched.content, fetched.url


def _store_page(content: bytes, *, url: str | None) -> tuple[Article, str]:
    """The article the page describes, upserted in the session; not committed."""
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
    article, outcome = upsert_article(data)
    db.session.flush()  # the article's id, and a clash with a concurrent insert, now
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
