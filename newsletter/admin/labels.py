"""What editors read about an edition: its title, status, dates and regions, in words.

Words and dates follow the console's language (French or English, extensions.console_locale):
a date in English in a French page would read worse than either. Times are shown in TIMEZONE,
the newsroom's clock.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from newsletter.admin.views import bp
from newsletter.models import REGIONS, Digest, DigestKind, DigestStatus

STATUS_LABELS = {
    DigestStatus.PLANNED: _l("planned"),
    DigestStatus.SENDING: _l("sending"),
    DigestStatus.PAUSED: _l("paused"),
    DigestStatus.FINISHED: _l("finished"),
    DigestStatus.CANCELLED: _l("cancelled"),
}
REGION_NAMES = {slug: name_fr for slug, name_fr, _name_en in REGIONS}
_REGION_NAMES_EN = {slug: name_en for slug, _name_fr, name_en in REGIONS}
# The keys editions.py makes: weekly-2026-W48, special-2026-12-01-<number or request key>.
_WEEKLY_KEY = re.compile(r"^weekly-(\d{4})-W(\d{1,2})$")
_SPECIAL_KEY = re.compile(r"^special-(\d{4}-\d{2}-\d{2})-")


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def language() -> str:
    """The page's language, "fr" or "en"; French outside a request (the CLI, the workers)."""
    locale = get_locale()
    return locale.language if locale is not None and locale.language == "en" else "fr"


@bp.app_template_filter("figure")
def figure(value: float | int) -> str:
    """A count or a rate as the page's language writes it: "1 234,5" / "1,234.5"."""
    pattern = "#,##0" if isinstance(value, int) else "#,##0.0"
    return format_decimal(value, format=pattern, locale=language())


@bp.app_template_filter("moment")
def moment(value: datetime | None) -> str:
    """ "1 déc. 2026, 14:05" / "Dec 1, 2026, 2:05 PM": a stored UTC time on the newsroom's
    clock; "—" for none."""
    if value is None:
        return "—"
    locale = language()
    local = value.astimezone(zone())
    pattern = Locale.parse(locale).datetime_formats["medium"]
    day = format_date(local, "medium", locale=locale)
    return str(pattern).format(format_time(local, "short", locale=locale), day)


def long_day(day: date) -> str:
    """ "1ᵉʳ décembre 2026", "2 décembre 2026"; "December 1, 2026" in English."""
    locale = language()
    text = format_date(day, "long", locale=locale)
    return "1ᵉʳ" + text[1:] if locale == "fr" and day.day == 1 else text


@bp.app_template_filter("edition_title")
def edition_title(digest: Digest) -> str:
    """ "Lettre hebdomadaire — semaine 49", "Édition spéciale du 1ᵉʳ décembre 2026"."""
    weekly = _WEEKLY_KEY.match(digest.edition_key)
    if digest.kind is DigestKind.WEEKLY and weekly:
        year, week = int(weekly.group(1)), int(weekly.group(2))
        this_year = datetime.now(zone()).isocalendar()[0]
        if year != this_year:
            return _("Weekly letter — week %(week)s of %(year)s", week=week, year=year)
        return _("Weekly letter — week %(week)s", week=week)
    if digest.kind is DigestKind.SPECIAL:
        special = _SPECIAL_KEY.match(digest.edition_key)
        try:
            day = date.fromisoformat(special.group(1)) if special else None
        except ValueError:
            day = None
        day = day or digest.created_at.astimezone(zone()).date()
        return _("Special edition of %(day)s", day=long_day(day))
    return digest.edition_key


def waits_for_its_time(digest: Digest) -> bool:
    """Scheduled and not released yet: it leaves at send_at, unless sent now or cancelled."""
    return (
        digest.status is DigestStatus.PLANNED
        and digest.send_at is not None
        and digest.planned_at is None
    )


@bp.app_template_filter("scheduled_for")
def scheduled_for(digest: Digest) -> str:
    """ "Programmée pour le 3 décembre 2026 à 14:00" / "Scheduled for December 3, 2026 at
    2:00 PM" on the newsroom's clock; "" for an edition not waiting for its time."""
    if digest.send_at is None or not waits_for_its_time(digest):
        return ""
    local = digest.send_at.astimezone(zone())
    return _(
        "Scheduled for %(day)s at %(time)s",
        day=long_day(local.date()),
        time=format_time(local, "short", locale=language()),
    )


@bp.app_template_filter("status_label")
def status_label(status: DigestStatus | str) -> str:
    label = STATUS_LABELS.get(DigestStatus(status))
    return str(label) if label is not None else str(status)


@bp.app_template_filter("region_name")
def region_name(slug: str) -> str:
    """A region's name in the page's language; an unknown slug as it is."""
    names = _REGION_NAMES_EN if language() == "en" else REGION_NAMES
    return names.get(slug, slug)


@bp.app_template_filter("region_names")
def region_names(slugs: list[str] | None) -> str:
    """The regions an edition is limited to, by name in menu order; None is every region."""
    if not slugs:
        return _("all regions")
    return ", ".join(region_name(slug) for slug in slugs)
