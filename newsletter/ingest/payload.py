"""Articles as JSON: what the editors' API receives (once its schema checked it), and returns."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from newsletter.ingest.articles import MAX_SUMMARY, ArticleData
from newsletter.ingest.clean import cut_lead, plain_text, sanitize_html
from newsletter.ingest.feeds import IngestOptions
from newsletter.models import Article

# The column sizes (models/article.py), and what a lead may hold: no one reads 10,000 characters
# in an email.
LIMITS = {
    "url": 2000, "guid": 2000, "title": 500, "author": 200, "image_url": 2000,
    "summary": MAX_SUMMARY,
}  # fmt: skip
# Labels, not text: a few per article.
MAX_LABELS, MAX_LABEL_LENGTH = 50, 100


def article_data(fields: Mapping[str, Any], *, options: IngestOptions) -> ArticleData:
    """ArticleData from an API request's fields, already checked by its schema
    (newsletter/api/schemas.py: ArticleIn): the lead cleaned and cut, the tags once each."""
    url = fields["url"]
    lead_html = sanitize_html(fields.get("summary") or "", base_url=url)
    tags = fields.get("tags") or ()
    return ArticleData(
        guid=fields.get("guid") or url,
        url=url,
        title=plain_text(fields["title"]),
        published_at=fields.get("published_at"),
        lead=cut_lead(plain_text(lead_html), options.lead_length),
        lead_html=lead_html,
        author=fields.get("author") or None,
        section=fields.get("section"),
        image_url=fields.get("image_url") or None,
        region_slugs=tuple(fields.get("regions") or ()),
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
