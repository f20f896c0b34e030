"""API routes: articles (create or update, list by region and date) and the feeds they come from."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from werkzeug.wrappers import Response

from newsletter.api import answers, bp
from newsletter.api.answers import described
from newsletter.api.auth import token_required
from newsletter.api.openapi import spec
from newsletter.api.refusals import feed_refused, field_by_field, refusing
from newsletter.api.schemas import ArticleIn, ArticleQuery, FeedIn
from newsletter.ingest.articles import upsert_article
from newsletter.ingest.feeds import IngestOptions
from newsletter.ingest.payload import article_data, article_json, parse_since
from newsletter.ingest.polling import add_feed
from newsletter.models import Article, Feed, Region, article_regions, db

TAGS = ["articles"]


@bp.post("/articles")
@token_required
@spec.validate(
    json=ArticleIn,
    resp=described(
        body=True,
        HTTP_200=answers.ArticleSaved,
        HTTP_201=answers.ArticleSaved,
        HTTP_422=answers.Invalid,
    ),
    before=refusing(field_by_field),
    tags=TAGS,
)
def save_article() -> tuple[Response, int]:
    """Create an article, or update the one with the same guid (the URL when none is given)."""
    fields: ArticleIn = request.context.json  # type: ignore[attr-defined]
    article, outcome = upsert_article(
        article_data(fields.model_dump(), options=IngestOptions.from_config())
    )
    db.session.commit()
    return jsonify(outcome=outcome, article=article_json(article)), (
        201 if outcome == "created" else 200
    )


@bp.get("/articles")
@token_required
@spec.validate(
    query=ArticleQuery,
    resp=described(query=True, HTTP_200=answers.Articles, HTTP_422=answers.Invalid),
    before=refusing(field_by_field),
    tags=TAGS,
)
def list_articles() -> tuple[Response, int]:
    """Newest first, filtered by region (`none`: awaiting one) and publication date."""
    filters: ArticleQuery = request.context.query  # type: ignore[attr-defined]
    query = db.select(Article).order_by(Article.published_at.desc(), Article.id.desc())
    if filters.region == "none":
        query = query.where(~Article.id.in_(db.select(article_regions.c.article_id)))
    elif filters.region:
        in_region = (
            db.select(article_regions.c.article_id)
            .join(Region, Region.id == article_regions.c.region_id)
            .where(Region.slug == filters.region)
        )
        query = query.where(Article.id.in_(in_region))
    if filters.since:
        query = query.where(Article.published_at >= parse_since(filters.since))
    articles = db.session.execute(query.limit(filters.limit)).scalars().all()
    return jsonify(articles=[article_json(article) for article in articles]), 200


# Feeds are where articles come from: registered and watched beside them.
@bp.post("/feeds")
@token_required
@spec.validate(
    json=FeedIn,
    resp=described(
        body=True,
        HTTP_200=answers.FeedSaved,
        HTTP_201=answers.FeedSaved,
        HTTP_422=answers.Invalid,
    ),
    before=refusing(feed_refused),
    tags=["feeds"],
)
def register_feed() -> tuple[Response, int]:
    """Register a feed to poll (the same URL again answers the same feed, 200)."""
    url = request.context.json.url  # type: ignore[attr-defined]
    try:
        feed, created = add_feed(url)
    except ValueError:
        return jsonify(error="invalid", errors={"url": ["must be an absolute http(s) URL"]}), 422
    return jsonify(feed=_feed_json(feed)), 201 if created else 200


@bp.get("/feeds")
@token_required
@spec.validate(resp=described(HTTP_200=answers.Feeds), tags=["feeds"])
def list_feeds() -> tuple[Response, int]:
    """Every feed with its last poll, last success and last error."""
    feeds = db.session.execute(db.select(Feed).order_by(Feed.id)).scalars()
    return jsonify(feeds=[_feed_json(feed) for feed in feeds]), 200


def _feed_json(feed: Feed) -> dict[str, Any]:
    stamp = lambda moment: moment.isoformat() if moment else None  # noqa: E731
    return {
        "id": feed.id,
        "url": feed.url,
        "title": feed.title,
        "active": feed.active,
        "last_polled_at": stamp(feed.last_polled_at),
        "last_success_at": stamp(feed.last_success_at),
        "last_error": feed.last_error,
        "last_error_at": stamp(feed.last_error_at),
    }
