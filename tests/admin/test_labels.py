"""How the console words an edition: titles, statuses, dates on the newsroom's clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask

from newsletter.admin.labels import edition_title, long_day, moment, region_names, status_label
from newsletter.models import Digest, DigestKind, DigestStatus


def draft(key: str, kind: DigestKind) -> Digest:
    return Digest(
        edition_key=key,
        kind=kind,
        window_start=datetime(2026, 1, 1, tzinfo=UTC),
        window_end=datetime(2026, 1, 8, tzinfo=UTC),
        created_at=datetime(2026, 3, 2, 23, 30, tzinfo=UTC),
    )


def test_times_are_shown_on_the_paris_clock_in_summer_and_in_winter(app: Flask) -> None:
    assert moment(datetime(2026, 12, 1, 13, 5, tzinfo=UTC)) == "1 déc. 2026, 14:05"
    assert moment(datetime(2026, 7, 14, 22, 30, tzinfo=UTC)) == "15 juil. 2026, 00:30"
    assert moment(None) == "—"


def test_a_first_of_the_month_reads_as_an_ordinal() -> None:
    assert long_day(date(2026, 12, 1)) == "1ᵉʳ décembre 2026"
    assert long_day(date(2026, 12, 2)) == "2 décembre 2026"


def test_editions_are_titled_by_their_week_or_their_day_not_their_key(app: Flask) -> None:
    this_year = datetime.now(UTC).isocalendar()[0]

    weekly = edition_title(draft(f"weekly-{this_year}-W49", DigestKind.WEEKLY))
    older = edition_title(draft("weekly-2019-W02", DigestKind.WEEKLY))
    special = edition_title(draft("special-2026-12-01-HBF0_BQMcHHOGd3b", DigestKind.SPECIAL))
    # A key from elsewhere (the API's own suffix, a hand-made row): the day it was made, in Paris.
    unkeyed = edition_title(draft("hand-made", DigestKind.SPECIAL))

    assert weekly == "Lettre hebdomadaire — semaine 49"
    assert older == "Lettre hebdomadaire — semaine 2 de 2019"
    assert special == "Édition spéciale du 1ᵉʳ décembre 2026"
    assert unkeyed == "Édition spéciale du 3 mars 2026"


def test_statuses_and_regions_are_in_french(app: Flask) -> None:
    assert [status_label(status) for status in DigestStatus] == [
        "planifiée",
        "en cours d’envoi",
        "en pause",
        "terminée",
        "annulée",
    ]
    assert status_label("paused") == "en pause"
    assert region_names(["afrique", "moyen-orient"]) == "Afrique, Moyen-Orient"
    assert region_names(None) == "toutes les régions"
