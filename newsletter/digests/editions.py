"""Editions: create a Digest once per edition key, then ask the delivery engine to plan it.

The edition key is held by a unique constraint, so two beat processes, a retried task or a
double click make one digest: the loser of the race reads the winner's row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy.exc import IntegrityError

from newsletter import jobs
from newsletter.models import Article, Digest, DigestKind, Region, db, utcnow

FIRST_WINDOW = timedelta(days=7)
# How far ahead an edition may be scheduled: further is a typo, not a plan.
LATEST_SCHEDULE = timedelta(days=366)
_KEY_SUFFIX = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


class EditionError(ValueError):
    """The edition asked for cannot be made (bad window, unknown region or article)."""


@dataclass(frozen=True)
class Edition:
    digest: Digest
    created: bool


def weekly_key(now: datetime, timezone: str) -> str:
    year, week, _ = now.astimezone(ZoneInfo(timezone)).isocalendar()
    return f"weekly-{year}-W{week:02d}"


def weekly_draft(*, now: datetime | None = None) -> Digest:
    """The weekly digest of the ISO week of `now` (in TIMEZONE), not stored."""
    now = now or utcnow()
    return Digest(
        edition_key=weekly_key(now, current_app.config["TIMEZONE"]),
        kind=DigestKind.WEEKLY,
        window_start=_default_start(DigestKind.WEEKLY, now),
        window_end=now,
        created_by="schedule",
    )


def create_weekly(*, now: datetime | None = None) -> Edition:
    """The weekly digest, made once per week however often this runs."""
    now = now or utcnow()
    existing = _by_key(weekly_key(now, current_app.config["TIMEZONE"]))
    if existing is not None:
        return Edition(existing, created=False)
    return _create(weekly_draft(now=now))


def special_draft(
    *,
    regions: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    intro: str | None = None,
    pinned_article_id: int | None = None,
    created_by: str | None = None,
    send_at: datetime | None = None,
    now: datetime | None = None,
) -> Digest:
    """A special edition checked and ready to store, without its edition key yet.

    Scheduled (`send_at`), its window ends by default when it leaves, not when it is made.
    """
    now = now or utcnow()
    if send_at is not None:
        check_send_at(send_at, now=now)
    since, until = special_window(since=since, until=until, send_at=send_at, now=now)
    if since >= until:
        raise EditionError("the window must start before it ends")
    slugs = _check_regions(regions)
    if pinned_article_id is not None and db.session.get(Article, pinned_article_id) is None:
        raise EditionError(f"no article {pinned_article_id} to pin")
    return Digest(
        edition_key="",
        kind=DigestKind.SPECIAL,
        window_start=since,
        window_end=until,
        region_slugs=slugs or None,
        intro=(intro or "").strip() or None,
        pinned_article_id=pinned_article_id,
        created_by=created_by,
        send_at=send_at,
    )


def special_window(
    *,
    since: datetime | None,
    until: datetime | None,
    send_at: datetime | None = None,
    now: datetime | None = None,
) -> tuple[datetime, datetime]:
    """A special edition's [start, end): by default from the previous special's end until it
    leaves (now, or its scheduled time)."""
    until = until or send_at or now or utcnow()
    return since or _default_start(DigestKind.SPECIAL, until), until


def check_send_at(send_at: datetime, *, now: datetime) -> None:
    """A time to send at: aware, in the future, and within LATEST_SCHEDULE."""
    if send_at.tzinfo is None:
        raise EditionError("send_at needs a UTC offset")
    if send_at <= now:
        raise EditionError("send_at must be in the future")
    if send_at > now + LATEST_SCHEDULE:
        raise EditionError(f"send_at must be within {LATEST_SCHEDULE.days} days")


def create_special(
    *,
    regions: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    intro: str | None = None,
    pinned_article_id: int | None = None,
    created_by: str | None = None,
    request_key: str | None = None,
    send_at: datetime | None = None,
    now: datetime | None = None,
) -> Edition:
    """A special edition by an editor; `request_key` makes a repeated request one digest.

    With `send_at`, it waits, planned, until schedule.start_due releases it at that time.
    """
    now = now or utcnow()
    day = now.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date().isoformat()
    if request_key is not None:
        if not _KEY_SUFFIX.match(request_key):
            raise EditionError("the request key must be 1-40 letters, digits, '-' or '_'")
        # A replayed request (double click, retried API call) gets the edition it made.
        existing = _by_key(f"special-{day}-{request_key}")
        if existing is not None:
            return Edition(existing, created=False)
    fields = dict(
        regions=regions,
        since=since,
        until=until,
        intro=intro,
        pinned_article_id=pinned_article_id,
        created_by=created_by,
        send_at=send_at,
        now=now,
    )
    if request_key is not None:
        digest = special_draft(**fields)  # type: ignore[arg-type]
        digest.edition_key = f"special-{day}-{request_key}"
        return _create(digest)
    # Numbered within the day; a concurrent special takes the number: try the next one.
    number = _count_specials(day) + 1
    for attempt in range(5):
        digest = special_draft(**fields)  # type: ignore[arg-type]
        digest.edition_key = f"special-{day}-{number + attempt}"
        edition = _create(digest)
        if edition.created:
            return edition
    raise EditionError("could not number the special edition; try again")


def _create(digest: Digest) -> Edition:
    db.session.add(digest)
    try:
        db.session.flush()
    except IntegrityError:
        # Someone made this edition first: theirs is the one.
        db.session.rollback()
        return Edition(_by_key(digest.edition_key) or digest, created=False)
    if digest.send_at is None:
        # Sent after the commit: the delivery engine never sees a digest that was rolled back.
        # By name: the delivery engine depends on digests, never the reverse.
        jobs.enqueue("delivery.plan", digest.id)
    db.session.commit()
    return Edition(digest, created=True)


def _by_key(key: str) -> Digest | None:
    return db.session.execute(
        db.select(Digest).where(Digest.edition_key == key)
    ).scalar_one_or_none()


def _default_start(kind: DigestKind, end: datetime) -> datetime:
    """Since the end of the previous digest of that kind; the first covers the last 7 days."""
    previous = db.session.execute(
        db.select(db.func.max(Digest.window_end)).where(
            Digest.kind == kind, Digest.window_end <= end
        )
    ).scalar_one_or_none()
    if previous is None:
        return end - FIRST_WINDOW
    # SQLite hands back an aggregate without the column's type: restore the zone.
    return previous if isinstance(previous, datetime) and previous.tzinfo else _as_utc(previous)


def _as_utc(value: object) -> datetime:
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _check_regions(regions: Sequence[str]) -> list[str]:
    wanted = [slug.strip() for slug in regions if slug.strip()]
    if not wanted:
        return []
    known = db.session.execute(
        db.select(Region.slug).where(Region.slug.in_(wanted)).order_by(Region.position)
    ).scalars()
    found = list(known)
    unknown = sorted(set(wanted) - set(found))
    if unknown:
        raise EditionError(f"unknown region(s): {', '.join(unknown)}")
    return found


def _count_specials(day: str) -> int:
    return db.session.execute(
        db.select(db.func.count())
        .select_from(Digest)
        .where(Digest.edition_key.like(f"special-{day}-%"))
    ).scalar_one()


def parse_moment(text: str, *, timezone: str, end_of_day: bool = False) -> datetime:
    """'2022-05-31' or '2022-05-31T08:00[+02:00]' as UTC; a bare date or time is in `timezone`.

    A bare date that ends a window means the end of that day, so `--until 2022-05-31`
    includes the 31st.
    """
    try:
        if len(text.strip()) == 10:
            day = date.fromisoformat(text.strip())
            moment = datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone))
            return (moment + timedelta(days=1) if end_of_day else moment).astimezone(UTC)
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise EditionError(f"not a date (YYYY-MM-DD or ISO 8601 date and time): {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(UTC)
