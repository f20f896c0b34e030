"""Readers, articles and a digest, inserted in bulk (thousands of readers in a second)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from newsletter.models import (
    Article,
    Delivery,
    Digest,
    DigestKind,
    Region,
    Subscriber,
    db,
    subscriber_regions,
)

WINDOW_END = datetime(2026, 11, 23, 7, tzinfo=UTC)
WINDOW_START = WINDOW_END - timedelta(days=7)


@dataclass(frozen=True)
class Seeded:
    digest_id: int
    emails: list[str]


def seed_articles(*, slugs: list[str] | None = None) -> None:
    """Two articles per region in the window (or only in `slugs`)."""
    regions = db.session.execute(db.select(Region).order_by(Region.position)).scalars().all()
    for position, region in enumerate(regions):
        if slugs is not None and region.slug not in slugs:
            continue
        for k in range(2):
            article = Article(
                guid=f"https://revue.example/{region.slug}/{k}",
                url=f"https://revue.example/{region.slug}/{k}",
                title=f"Pourparlers {region.name_fr} {k}",
                lead="Les négociations reprennent en janvier. " * 8,
                published_at=WINDOW_START + timedelta(hours=position * 3 + k + 1),
                regions=[region],
            )
            db.session.add(article)
    db.session.commit()


def seed_readers(
    count: int, *, domain_of: object = None, start: int = 0, status: str = "confirmed"
) -> list[str]:
    """`count` confirmed readers over every combination of regions, French and English."""
    region_ids = db.session.execute(sa.select(Region.id).order_by(Region.position)).scalars().all()
    confirmed_at = WINDOW_END - timedelta(days=30)
    emails = []
    rows = []
    for i in range(start, start + count):
        domain = domain_of(i) if callable(domain_of) else "example.org"
        email = f"reader{i}@{domain}"
        emails.append(email)
        rows.append(
            {
                "email": email,
                "name": f"Lecteur {i}" if i % 3 else None,
                "language": "en" if i % 2 else "fr",
                "status": status,
                "paused": False,
                "token_nonce": f"n{i}",
                "hard_bounces": 0,
                "created_at": confirmed_at,
                "updated_at": confirmed_at,
                "confirmed_at": confirmed_at,
            }
        )
    db.session.execute(sa.insert(Subscriber.__table__), rows)
    ids = dict(
        db.session.execute(
            sa.select(Subscriber.email, Subscriber.id).where(Subscriber.email.in_(emails))
        ).all()
    )
    links = []
    for i, email in zip(range(start, start + count), emails, strict=True):
        combo = i % 127 + 1  # 1..127: every non-empty set of the seven regions
        links += [
            {"subscriber_id": ids[email], "region_id": rid}
            for bit, rid in enumerate(region_ids)
            if combo & (1 << bit)
        ]
    db.session.execute(sa.insert(subscriber_regions), links)
    db.session.commit()
    return emails


def seed_digest(key: str = "special-test-1") -> int:
    digest = Digest(
        edition_key=key,
        kind=DigestKind.SPECIAL,
        window_start=WINDOW_START,
        window_end=WINDOW_END,
    )
    db.session.add(digest)
    db.session.commit()
    return digest.id


def seed_old_digest(key: str = "special-test-1") -> int:
    """A digest with only the columns revision 0001 has, for migration tests that start there."""
    old_digests = sa.table(
        "digests",
        *(sa.column(name) for name in ("edition_key", "kind", "status", "planned_count")),
        sa.column("window_start", sa.DateTime(timezone=True)),
        sa.column("window_end", sa.DateTime(timezone=True)),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("id", sa.Integer),
    )
    inserted = db.session.execute(
        sa.insert(old_digests).returning(old_digests.c.id),
        {
            "edition_key": key,
            "kind": "special",
            "status": "planned",
            "planned_count": 0,
            "window_start": WINDOW_START,
            "window_end": WINDOW_END,
            "created_at": WINDOW_END,
        },
    )
    digest_id = int(inserted.scalar_one())
    db.session.commit()
    return digest_id


def seed_all(count: int, *, domain_of: object = None) -> Seeded:
    seed_articles()
    emails = seed_readers(count, domain_of=domain_of)
    return Seeded(seed_digest(), emails)


def reloaded_digest(digest_id: int) -> Digest:
    """The digest as the database holds it now."""
    db.session.expire_all()
    found = db.session.get(Digest, digest_id)
    assert found is not None
    return found


def delivery_count(digest_id: int) -> int:
    """How many delivery rows the digest has (planned, sent or otherwise)."""
    return len(
        db.session.execute(db.select(Delivery.id).where(Delivery.digest_id == digest_id)).all()
    )
