"""What editors read about an edition: its title, status, dates and regions, in words.

The console's pages are written in French, so these are too: a date in English in a French
page would read worse than either. Times are shown in TIMEZONE, the newsroom's clock.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from flask import current_app

from newsletter.admin.views import bp
from newsletter.models import REGIONS, Digest, DigestKind, DigestStatus

LOCALE = "fr"
STATUS_LABELS = {
    DigestStatus.PLANNED: "planifiée",
    DigestStatus.SENDING: "en cours d’envoi",
    DigestStatus.PAUSED: "en pause",
    DigestStatus.FINISHED: "terminée",
    DigestStatus.CANCELLED: "annulée",
}
REGION_NAMES = {slug: name_fr for slug, name_fr, _ in REGIONS}
# The keys editions.py makes: weekly-2026-W48, special-2026-12-01-<number or request key>.
_WEEKLY_KEY = re.compile(r"^weekly-(\d{4})-W(\d{1,2})$")
_SPECIAL_KEY = re.compile(r"^special-(\d{4}-\d{2}-\d{2})-")


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


@bp.app_template_filter("moment")
def moment(value: datetime | None) -> str:
    """ "1 déc. 2026, 14:05": a stored UTC time on the newsroom's clock; "—" for none."""
    if value is None:
        return "—"
    local = value.astimezone(zone())
    pattern = Locale.parse(LOCALE).datetime_formats["medium"]
    day = format_date(local, "medium", locale=LOCALE)
    return str(pattern).format(format_time(local, "short", locale=LOCALE), day)


def long_day(day: date) -> str:
    """ "1ᵉʳ décembre 2026", "2 décembre 2026"."""
    text = format_date(day, "long", locale=LOCALE)
    return "1ᵉʳ" + text[1:] if day.day == 1 else text


@bp.app_template_filter("edition_title")
def edition_title(digest: Digest) -> str:
    """ "Lettre hebdomadaire — semaine 49", "Édition spéciale du 1ᵉʳ décembre 2026"."""
    weekly = _WEEKLY_KEY.match(digest.edition_key)
    if digest.kind is DigestKind.WEEKLY and weekly:
        year, week = int(weekly.group(1)), int(weekly.group(2))
        this_year = datetime.now(zone()).isocalendar()[0]
        return f"Lettre hebdomadaire — semaine {week}" + (
            f" de {year}" if year != this_year else ""
        )
    if digest.kind is DigestKind.SPECIAL:
        special = _SPECIAL_KEY.match(digest.edition_key)
        try:
            day = date.fromisoformat(special.group(1)) if special else None
        except ValueError:
            day = None
        day = day or digest.created_at.astimezone(zone()).date()
        return f"Édition spéciale du {long_day(day)}"
    return digest.edition_key


@bp.app_template_filter("status_label")
def status_label(status: DigestStatus | str) -> str:
    return STATUS_LABELS.get(DigestStatus(status), str(status))


@bp.app_template_filter("region_names")
def region_names(slugs: list[str] | None) -> str:
    """The regions an edition is limited to, by name in menu order; None is every region."""
    if not slugs:
        return "toutes les régions"
    return ", ".join(REGION_NAMES.get(slug, slug) for slug in slugs)
