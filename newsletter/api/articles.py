"""API routes: articles (create or update, list by region and date) and the feeds they come from."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from werkzeug.wrappers import Response

from newsletter.api import bp
from newsletter.api.auth import token_required
from newsletter.ingest.articles import MAX_URL, upsert_article
from newsletter.ingest.feeds import IngestOptions
from newsletter.ingest.payload import (
    InvalidArticle,
    article_from_payload,
    article_json,
    parse_since,
)
from newsletter.ingest.polling import add_feed
from newsletter.models import Article, Feed, Region, article_regions, db

MAX_LIST = 500


@bp.post("/articles")
@token_required
def save_article() -> tuple[Response, int]:
    """Create an article, or update the one with the same guid (the URL when none is given)."""
    payload = request.get_json()
    try:
        data = article_from_payload(payload, options=IngestOptions.from_config())
    except InvalidArticle as exc:
        return _invalid(exc.errors)
    article, outcome = upsert_article(data)
    db.session.commit()
    return jsonify(outcome=outcome, article=article_json(article)), (
        201 if outcome == "created" else 200
    )


@bp.get("/articles")
@token_required
def list_articles() -> tuple[Response, int]:
    """Newest first. ?region=<slug> (or `none` for those awaiting one), ?since=, ?limit=."""
    errors: dict[str, list[str]] = {}
    query = db.select(Article).order_by(Article.published_at.desc(), Article.id.desc())
    region = request.args.get("region", "").strip()
    if region == "none":
        query = query.where(~Article.id.in_(db.select(article_regions.c.article_id)))
    elif region:
        region_id = db.session.execute(
            db.select(Region.id).where(Region.slug == region)
        ).scalar_one_or_none()
        if region_id is None:
            errors["region"] = ["unknown region slug"]
        query = query.where(
            Article.id.in_(
                db.select(article_regions.c.article_id).where(
                    article_regions.c.region_id == region_id
                )
            )
        )
    since = request.args.get("since", "").strip()
    if since:
        try:
            query = query.where(Article.published_at >= parse_since(since))
        except ValueError:
            errors["since"] = ["must be an ISO 8601 date or date-time"]
    limit = _limit(request.args.get("limit", ""), errors)
    if errors:
        return _invalid(errors)
    articles = db.session.execute(query.limit(limit)).scalars().all()
    return jsonify(articles=[article_json(article) for article in articles]), 200


def _limit(raw: str, errors: dict[str, list[str]]) -> int:
    if not raw:
        return 100
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= MAX_LIST:
        errors["limit"] = [f"a whole number from 1 to {MAX_LIST}"]
        return 100
    return int(raw)


def _invalid(errors: dict[str, Any]) -> tuple[Response, int]:
    return jsonify(error="invalid", errors=errors), 422


# Feeds are where articles come from: registered and watched beside them.
@bp.post("/feeds")
@token_required
def register_feed() -> tuple[Response, int]:
    payload = request.get_json()
    url = payload.get("url") if isinstance(payload, dict) else None
    if not isinstance(url, str) or not url.strip():
        return _invalid({"url": ["required"]})
    if len(url.strip()) > MAX_URL:
        return _invalid({"url": [f"at most {MAX_URL} characters"]})
    try:
        feed, created = add_feed(url)
    except ValueError:
        return _invalid({"url": ["must be an absolute http(s) URL"]})
    return jsonify(feed=_feed_json(feed)), 201 if created else 200


@bp.get("/feeds")
@token_required
def list_feeds() -> tuple[Response, int]:
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
