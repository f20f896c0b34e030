"""Articles as JSON: validating what the editors' API receives, and what it returns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from newsletter.ingest.articles import MAX_SUMMARY, ArticleData
from newsletter.ingest.classify import SECTION_ALIASES, classify, normalize
from newsletter.ingest.clean import cut_lead, plain_text, sanitize_html
from newsletter.ingest.feeds import IngestOptions
from newsletter.models import Article, Section

# The column sizes (models/article.py), and what a lead may hold: no one reads 10,000 characters
# in an email.
LIMITS = {
    "url": 2000, "guid": 2000, "title": 500, "author": 200, "image_url": 2000,
    "summary": MAX_SUMMARY,
}  # fmt: skip
# Labels, not text: a few per article.
MAX_LABELS, MAX_LABEL_LENGTH = 50, 100
FIELDS = {
    "guid", "url", "title", "published_at", "summary", "author", "section", "regions",
    "tags", "image_url",
}  # fmt: skip


class InvalidArticle(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def article_from_payload(payload: Any, *, options: IngestOptions) -> ArticleData:
    """ArticleData from a JSON object, or InvalidArticle with every field's errors."""
    if not isinstance(payload, dict):
        raise InvalidArticle({"body": ["expected a JSON object"]})
    errors: dict[str, list[str]] = {}

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    for unknown in sorted(set(payload) - FIELDS):
        fail(unknown, "unknown field")
    text = {name: _string(payload, name, fail) for name in ("url", "guid", "title", "author")}
    for name in ("url", "title"):
        if not text[name]:
            fail(name, "required")
    url, image_url = text["url"], _string(payload, "image_url", fail)
    for name, value in (("url", url), ("image_url", image_url)):
        if value and urlsplit(value).scheme not in {"http", "https"}:
            fail(name, "must be an absolute http(s) URL")
    summary = _string(payload, "summary", fail) or ""
    for name, value in {**text, "image_url": image_url, "summary": summary}.items():
        if value and len(value) > LIMITS[name]:
            fail(name, f"at most {LIMITS[name]} characters")
    published_at = _datetime(payload.get("published_at"), "published_at", fail)
    section = _section(payload.get("section"), fail)
    region_slugs: list[str] = []
    for label in _strings(payload, "regions", fail):
        slugs = classify([label], aliases=options.region_aliases).region_slugs
        if not slugs:
            fail("regions", f"unknown region: {label}")
        region_slugs += [slug for slug in slugs if slug not in region_slugs]
    tags = _strings(payload, "tags", fail)
    if errors:
        raise InvalidArticle(errors)
    lead_html = sanitize_html(summary, base_url=url)
    return ArticleData(
        guid=text["guid"] or str(url),
        url=str(url),
        title=plain_text(str(text["title"])),
        published_at=published_at,
        lead=cut_lead(plain_text(lead_html), options.lead_length),
        lead_html=lead_html,
        author=text["author"] or None,
        section=section,
        image_url=image_url or None,
        region_slugs=tuple(region_slugs),
        tags=tuple(dict.fromkeys(tag.strip() for tag in tags if tag.strip())),
    )


def article_json(article: Article) -> dict[str, Any]:
    return {
        "id": article.id,
        "guid": article.guid,
        "url": article.url,
        "title": article.title,
        "published_at": article.published_at.isoformat(),
        "lead": article.lead,
        "summary": article.lead_html,
        "author": article.author,
        "section": article.section.value if article.section else None,
        "regions": [region.slug for region in article.regions],
        "needs_region": article.needs_region,
        "tags": list(article.tags or []),
        "image_url": article.image_url,
        "updated_at": article.updated_at.isoformat(),
    }


def parse_since(raw: str) -> datetime:
    """An ISO 8601 time; a time without zone is UTC. Raises ValueError (also when out of range)."""
    moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"out of range: {raw!r}") from None


def _string(payload: dict[str, Any], name: str, fail: Any) -> str | None:
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        fail(name, "must be a string")
        return None
    if "\x00" in value:
        fail(name, "must not contain NUL characters")
        return None
    return value.strip()


def _strings(payload: dict[str, Any], name: str, fail: Any) -> list[str]:
    value = payload.get(name, [])
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        fail(name, "must be a list of strings")
        return []
    if len(value) > MAX_LABELS or any(len(item) > MAX_LABEL_LENGTH for item in value):
        fail(name, f"at most {MAX_LABELS} of at most {MAX_LABEL_LENGTH} characters each")
        return []
    return value


def _datetime(value: Any, name: str, fail: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        fail(name, "must be an ISO 8601 date-time string")
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        fail(name, "must be an ISO 8601 date-time, e.g. 2022-05-18T09:30:00+02:00")
        return None
    if moment.tzinfo is None:
        fail(name, "must include a time zone (Z or +hh:mm)")
        return None
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first UTC date
        fail(name, "is out of range")
        return None


def _section(value: Any, fail: Any) -> Section | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        key = normalize(value)
        if key in SECTION_ALIASES:
            return SECTION_ALIASES[key]
    fail("section", f"one of: {', '.join(s.value for s in Section)}")
    return None
