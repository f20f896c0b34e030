"""Finding readers for the console: filters read from GET parameters, a page of 50, newest first.

A malformed parameter is dropped with a note rather than refused: a list is a link
an admin keeps, and an old or mistyped link should still show something.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from newsletter.admin.paging import page_number
from newsletter.models import REGIONS, Region, Subscriber, SubscriberStatus, db, subscriber_regions
from newsletter.subscriptions.service import LANGUAGES

PAGE_SIZE = 50
STATUS_LABELS = {
    SubscriberStatus.PENDING: _l("awaiting confirmation"),
    SubscriberStatus.CONFIRMED: _l("subscribed"),
    SubscriberStatus.UNSUBSCRIBED: _l("unsubscribed"),
    SubscriberStatus.BOUNCED: _l("bouncing address"),
    SubscriberStatus.COMPLAINED: _l("spam complaint"),
}
LANGUAGE_LABELS = {"fr": _l("French"), "en": _l("English")}
REGION_SLUGS = {slug for slug, _, _ in REGIONS}


@dataclass(frozen=True)
class ReaderFilters:
    search: str = ""
    status: SubscriberStatus | None = None
    region: str = ""
    language: str = ""

    def query_args(self) -> dict[str, str]:
        """The filters as GET parameters, for the pages' links and the export."""
        args = {"q": self.search, "region": self.region, "langue": self.language}
        if self.status is not None:
            args["statut"] = self.status.value
        return {name: value for name, value in args.items() if value}


@dataclass
class ReadFilters:
    filters: ReaderFilters
    page: int
    notices: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReaderPage:
    readers: list[Subscriber]
    total: int
    number: int

    @property
    def count(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def read_filters(args: MultiDict[str, str]) -> ReadFilters:
    notices: list[str] = []
    search = args.get("q", "").strip()
    if len(search) > 320:
        notices.append(_("Search too long: 320 characters at most, ignored."))
        search = ""
    status = _status_arg(args.get("statut", ""), notices)
    region = _choice(
        args.get("region", ""),
        REGION_SLUGS,
        _("Unknown region “%(value)s”: filter ignored."),
        notices,
    )
    language = _choice(
        args.get("langue", ""),
        set(LANGUAGES),
        _("Unknown language “%(value)s”: filter ignored."),
        notices,
    )
    filters = ReaderFilters(search=search, status=status, region=region, language=language)
    return ReadFilters(filters, _page_arg(args.get("page", "1"), notices), notices)


def _status_arg(raw: str, notices: list[str]) -> SubscriberStatus | None:
    if not raw:
        return None
    try:
        return SubscriberStatus(raw)
    except ValueError:
        notices.append(_("Unknown status “%(value)s”: every status is shown.", value=raw[:40]))
        return None


def _choice(raw: str, known: set[str], notice: str, notices: list[str]) -> str:
    """`notice` is a translated message with a %(value)s for what the URL had."""
    if raw and raw not in known:
        notices.append(notice % {"value": raw[:40]})
        return ""
    return raw


def _page_arg(raw: str, notices: list[str]) -> int:
    number = page_number(raw)
    if number is None:
        notices.append(_("Unreadable page number “%(value)s”: first page.", value=raw.strip()[:40]))
    return number or 1


def find_readers(filters: ReaderFilters, page: int) -> ReaderPage:
    conditions = _conditions(filters)
    total = db.session.execute(
        sa.select(sa.func.count()).select_from(Subscriber).where(*conditions)
    ).scalar_one()
    readers = db.session.execute(
        db.select(Subscriber)
        .where(*conditions)
        .order_by(Subscriber.created_at.desc(), Subscriber.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).scalars()
    return ReaderPage(list(readers), total, page)


def _conditions(filters: ReaderFilters) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if filters.search:
        # Addresses are stored normalized; the search is on the substring, case-insensitive,
        # with LIKE's wildcards taken as plain characters.
        conditions.append(Subscriber.email.icontains(filters.search, autoescape=True))
    if filters.status is not None:
        conditions.append(Subscriber.status == filters.status)
    if filters.language:
        conditions.append(Subscriber.language == filters.language)
    if filters.region:
        conditions.append(
            Subscriber.id.in_(
                sa.select(subscriber_regions.c.subscriber_id)
                .join(Region, Region.id == subscriber_regions.c.region_id)
                .where(Region.slug == filters.region)
            )
        )
    return conditions
