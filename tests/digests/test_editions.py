"""Editions: the weekly digest once per ISO week whoever triggers it; specials on their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from newsletter.digests.editions import (
    EditionError,
    _create,
    create_special,
    create_weekly,
    weekly_draft,
    weekly_key,
)
from newsletter.models import Digest, DigestKind, db

# Monday 30 November 2026, 07:00 in Paris: the default schedule's beat.
MONDAY = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def digests() -> list[Digest]:
    return list(db.session.execute(db.select(Digest).order_by(Digest.id)).scalars())


def test_running_the_weekly_task_twice_in_a_week_makes_one_digest(app: Flask) -> None:
    task = app.extensions["celery"].tasks["digests.plan_weekly"]

    task.apply()
    task.apply()

    made = digests()
    assert len(made) == 1
    assert made[0].kind is DigestKind.WEEKLY
    assert made[0].edition_key == weekly_key(made[0].window_end, app.config["TIMEZONE"])


def test_a_second_beat_later_in_the_week_finds_the_first_digest(app: Flask) -> None:
    first = create_weekly(now=MONDAY)
    again = create_weekly(now=MONDAY + timedelta(days=3))

    assert first.created and not again.created
    assert again.digest.id == first.digest.id
    assert [d.edition_key for d in digests()] == ["weekly-2026-W49"]


def test_the_week_is_counted_in_the_configured_time_zone(app: Flask) -> None:
    # Sunday 23:30 UTC is already Monday in Paris: week 49 there, week 48 in UTC.
    late_sunday = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)

    assert weekly_key(late_sunday, "Europe/Paris") == "weekly-2026-W49"
    assert weekly_key(late_sunday, "UTC") == "weekly-2026-W48"


def test_the_first_weekly_covers_seven_days_and_the_next_starts_where_it_ended(app: Flask) -> None:
    first = create_weekly(now=MONDAY).digest
    second = create_weekly(now=MONDAY + timedelta(days=7)).digest

    assert first.window_end - first.window_start == timedelta(days=7)
    assert second.window_start == first.window_end
    assert second.edition_key == "weekly-2026-W50"


def test_a_special_edition_the_same_day_is_a_separate_digest(app: Flask) -> None:
    weekly = create_weekly(now=MONDAY).digest
    special = create_special(regions=["russie"], intro="Sommet de crise.", now=MONDAY).digest
    other = create_special(now=MONDAY + timedelta(hours=2)).digest

    assert len({weekly.id, special.id, other.id}) == 3
    assert special.edition_key == "special-2026-11-30-1"
    assert other.edition_key == "special-2026-11-30-2"
    assert special.region_slugs == ["russie"] and special.intro == "Sommet de crise."


def test_a_repeated_special_request_with_the_same_key_makes_one_digest(app: Flask) -> None:
    first = create_special(request_key="form-7Hq2", now=MONDAY)
    again = create_special(request_key="form-7Hq2", now=MONDAY)

    assert first.created and not again.created
    assert len(digests()) == 1


def test_every_new_edition_is_handed_to_the_delivery_engine_once_committed(app: Flask) -> None:
    weekly = create_weekly(now=MONDAY).digest
    create_weekly(now=MONDAY)
    special = create_special(now=MONDAY).digest

    # delivery.plan ran after each commit (Celery runs eagerly in tests) and planned each once.
    db.session.expire_all()
    assert [(d.id, d.planned_at is not None) for d in digests()] == [
        (weekly.id, True),
        (special.id, True),
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"regions": ["atlantide"]}, "unknown region(s): atlantide"),
        ({"since": MONDAY, "until": MONDAY - timedelta(days=1)}, "must start before"),
        ({"pinned_article_id": 999_999}, "no article 999999"),
        ({"request_key": "a b"}, "request key"),
    ],
)
def test_a_special_edition_that_cannot_be_made_says_why(
    app: Flask, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(EditionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        create_special(now=MONDAY, **kwargs)
    assert digests() == []


def test_two_beats_racing_for_the_same_week_make_one_digest(app: Flask) -> None:
    ours = weekly_draft(now=MONDAY)
    db.session.commit()
    # The other beat stores the week's digest between our look-up and our insert.
    with db.engine.begin() as connection:
        connection.execute(
            Digest.__table__.insert().values(
                edition_key=ours.edition_key,
                kind="weekly",
                status="planned",
                window_start=ours.window_start,
                window_end=ours.window_end,
                planned_count=0,
                created_at=MONDAY,
            )
        )

    edition = _create(ours)

    assert not edition.created
    assert [d.edition_key for d in digests()] == ["weekly-2026-W49"]
    assert edition.digest.id == digests()[0].id


def test_beat_runs_the_weekly_digest_on_the_configured_cron_line_in_the_site_time_zone(
    app: Flask,
) -> None:
    from worker.schedule import beat_schedule

    entry = beat_schedule({**app.config, "DIGEST_SCHEDULE": "30 6 * * mon"})["weekly-digest"]

    assert entry["task"] == "digests.plan_weekly"
    cron = entry["schedule"]
    assert (cron.minute, cron.hour, cron.day_of_week) == ({30}, {6}, {1})
    assert app.extensions["celery"].conf.timezone == app.config["TIMEZONE"] == "Europe/Paris"
