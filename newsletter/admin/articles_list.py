"""The console's list of articles: filters read from the query string, one page of results.

Reading the list changes nothing, so a filter that cannot be read is not an error page: it is
left out and the page says so in a notice, beside the articles the other filters find.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from newsletter.admin.labels import zone
from newsletter.admin.paging import page_number
from newsletter.models import REGIONS, Article, Region, Section, article_regions, db
from newsletter.models.article import fold

PAGE_SIZE = 50
MAX_SEARCH = 200
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)
REGION_SLUGS = {slug for slug, _, _ in REGIONS}


@dataclass(frozen=True)
class ArticleFilters:
    search: str = ""
    region: str | None = None
    section: Section | None = None
    feed_id: int | None = None
    since: date | None = None
    until: date | None = None
    without_region: bool = False

    def query_args(self) -> dict[str, str]:
        """The filters as query parameters, for the pages' links and the form's values."""
        args = {
            "q": self.search,
            "region": self.region or "",
            "section": self.section.value if self.section else "",
            "feed": str(self.feed_id) if self.feed_id else "",
            "du": self.since.isoformat() if self.since else "",
            "au": self.until.isoformat() if self.until else "",
            "sans_region": "1" if self.without_region else "",
        }
        return {key: value for key, value in args.items() if value}


@dataclass(frozen=True)
class ArticlePage:
    articles: list[Article]
    total: int
    number: int
    count: int  # how many pages the filters give, at least 1


@dataclass
class ReadFilters:
    filters: ArticleFilters
    page: int
    notices: list[str] = field(default_factory=list)


def read_filters(args: MultiDict[str, str], *, feed_ids: set[int]) -> ReadFilters:
    """The filters and page number of a query string; each unreadable one left out and said."""
    notices: list[str] = []
    region = args.get("region", "").strip() or None
    if region is not None and region not in REGION_SLUGS:
        notices.append(_("Unknown region “%(value)s”: filter ignored.", value=_cut(region)))
        region = None
    section_value = args.get("section", "").strip()
    section = next((s for s in Section if s.value == section_value), None)
    if section_value and section is None:
        notices.append(_("Unknown section “%(value)s”: filter ignored.", value=_cut(section_value)))
    feed_id = _feed_arg(args.get("feed", "").strip(), feed_ids, notices)
    since = _day_arg(args.get("du", ""), _("From"), notices)
    until = _day_arg(args.get("au", ""), _("To"), notices)
    if since and until and since > until:
        notices.append(_("The period is reversed: the “From” date comes after the “To” date."))
    page = _page_arg(args.get("page", "1"), notices)
    filters = ArticleFilters(
        search=" ".join(args.get("q", "").split())[:MAX_SEARCH],
        region=region,
        section=section,
        feed_id=feed_id,
        since=since,
        until=until,
        without_region=args.get("sans_region") == "1",
    )
    return ReadFilters(filters, page, notices)


def _cut(text: str) -> str:
    """What the editor typed, shortened to fit a notice."""
    return text if len(text) <= 40 else text[:40] + "…"


def _feed_arg(raw: str, feed_ids: set[int], notices: list[str]) -> int | None:
    if not raw:
        return None
    if raw.isascii() and raw.isdigit() and len(raw) <= 10 and int(raw) in feed_ids:
        return int(raw)
    notices.append(_("Unknown feed “%(value)s”: filter ignored.", value=_cut(raw)))
    return None


def _day_arg(raw: str, label: str, notices: list[str]) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        notices.append(
            _(
                "%(label)s: unreadable date “%(value)s” (expected: YYYY-MM-DD).",
                label=label,
                value=_cut(raw),
            )
        )
        return None
    return day


def _page_arg(raw: str, notices: list[str]) -> int:
    number = page_number(raw)
    if number is None:
        notices.append(
            _("Unreadable page number “%(value)s”: first page.", value=_cut(raw.strip()))
        )
    return number or 1


def find_articles(filters: ArticleFilters, page: int) -> ArticlePage:
    """One page of the articles the filters keep, newest first; past the last, the last."""
    conditions = _conditions(filters)
    total = db.session.execute(
        sa.select(sa.func.count()).select_from(Article).where(*conditions)
    ).scalar_one()
    count = max(1, -(-total // PAGE_SIZE))
    number = min(page, count)
    articles = db.session.execute(
        sa.select(Article)
        .where(*conditions)
        .options(selectinload(Article.feed))
        # The id breaks ties between articles of the same minute: pages never overlap.
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(PAGE_SIZE)
        .offset((number - 1) * PAGE_SIZE)
    ).scalars()
    return ArticlePage(list(articles), total, number, count)


def _conditions(filters: ArticleFilters) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if filters.search:
        # On the folded title: case and accents ignored alike on SQLite and PostgreSQL.
        conditions.append(Article.title_folded.contains(fold(filters.search), autoescape=True))
    if filters.region:
        in_region = (
            sa.select(article_regions.c.article_id)
            .join(Region, Region.id == article_regions.c.region_id)
            .where(Region.slug == filters.region)
        )
        conditions.append(Article.id.in_(in_region))
    if filters.without_region:
        conditions.append(~Article.id.in_(sa.select(article_regions.c.article_id)))
    if filters.section:
        conditions.append(Article.section == filters.section)
    if filters.feed_id:
        conditions.append(Article.feed_id == filters.feed_id)
    # Days are the newsroom's (TIMEZONE): "du 1er" starts at midnight in Paris.
    if filters.since:
        conditions.append(Article.published_at >= _midnight(filters.since))
    if filters.until:
        conditions.append(Article.published_at < _midnight(filters.until + timedelta(days=1)))
    return conditions


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone()).astimezone(UTC)


def count_awaiting_region() -> int:
    """How many articles no regional digest carries until an editor gives them a region."""
    return db.session.execute(
        sa.select(sa.func.count())
        .select_from(Article)
        .where(~Article.id.in_(sa.select(article_regions.c.article_id)))
    ).scalar_one()
