"""Digest fixtures: the sample feed ingested, readers on chosen regions, a sample edition."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from newsletter.ingest.feeds import ingest_file
from newsletter.models import Region, Subscriber, SubscriberStatus, db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SAMPLE_FEED = FIXTURES / "revue-internationale-sample.rss"
# The sample feed runs from 29 December 2021 to 18 May 2022.
SAMPLE_SINCE = datetime(2021, 12, 1, tzinfo=UTC)
SAMPLE_UNTIL = datetime(2022, 6, 1, tzinfo=UTC)


@pytest.fixture
def sample_articles(app: Flask) -> None:
    ingest_file(SAMPLE_FEED)


@pytest.fixture
def make_reader(app: Flask) -> Callable[..., Subscriber]:
    count = iter(range(1, 10_000))

    def make(
        *slugs: str,
        language: str = "fr",
        name: str | None = None,
        status: SubscriberStatus = SubscriberStatus.CONFIRMED,
        confirmed_at: datetime | None = None,
    ) -> Subscriber:
        regions = db.session.execute(db.select(Region).where(Region.slug.in_(slugs))).scalars()
        reader = Subscriber(
            email=f"reader{next(count)}@example.org",
            name=name,
            language=language,
            status=status,
            confirmed_at=confirmed_at or datetime(2022, 1, 1, tzinfo=UTC),
            regions=list(regions),
        )
        db.session.add(reader)
        db.session.commit()
        return reader

    return make
