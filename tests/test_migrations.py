"""The schema comes from the migrations, and the models agree with them."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from newsletter.app import create_app
from newsletter.models import REGIONS, Delivery, Digest, Region, Subscriber, db
from tests.conftest import _overrides, create_run_database, drop_run_database
from tests.delivery.seed import WINDOW_START, seed_old_digest, seed_readers


def test_migrations_create_the_seven_regions_in_menu_order(app: Flask) -> None:
    regions = db.session.execute(db.select(Region).order_by(Region.position)).scalars().all()
    assert [(r.slug, r.name_fr, r.name_en) for r in regions] == list(REGIONS)
    assert regions[-1].name("fr") == "Le monde de demain"
    assert regions[0].name("en") == "European Union"


def test_models_and_migrations_describe_the_same_schema(app: Flask) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_upgrading_a_database_with_deliveries_keeps_them_and_drops_their_foreign_keys(
    backend: str, tmp_path: Path
) -> None:
    from flask_migrate import downgrade, upgrade

    url = (
        f"sqlite:///{tmp_path / 'old.sqlite'}"
        if backend == "sqlite"
        else create_run_database(f"mig{os.getpid()}")
    )
    app = create_app(_overrides(url), instance_path=tmp_path)
    try:
        with app.app_context():
            upgrade(revision="0001")
            seed_readers(3)
            digest_id = seed_old_digest("special-test-1")
            gone_digest_id = seed_old_digest("special-test-2")
            reader_ids = db.session.execute(sa.select(Subscriber.id)).scalars().all()
            # Only the columns revision 0001 has (the model has grown since).
            old_rows = [{"digest_id": digest_id, "subscriber_id": r} for r in reader_ids]
            old_rows.append({"digest_id": gone_digest_id, "subscriber_id": reader_ids[1]})
            db.session.execute(sa.insert(Delivery.__table__), old_rows)
            db.session.commit()

            upgrade()
            kept = db.session.execute(
                sa.select(Delivery.subscriber_id).where(Delivery.digest_id == digest_id)
            )
            assert sorted(kept.scalars()) == sorted(reader_ids)
            # No keys any more: deleting a reader or a digest by hand leaves the rows (the
            # service itself nulls an erased reader's rows, and never deletes a digest).
            db.session.execute(sa.delete(Subscriber).where(Subscriber.id == reader_ids[0]))
            db.session.execute(sa.delete(Digest).where(Digest.id == gone_digest_id))
            db.session.commit()
            assert db.session.execute(sa.select(sa.func.count(Delivery.id))).scalar_one() == 4
            db.session.commit()  # no read lock for a downgrade's ALTER TABLE to wait on

            downgrade(revision="0001")  # the keys come back; orphan rows are mended first
            rows = db.session.execute(sa.select(Delivery.digest_id, Delivery.subscriber_id))
            assert sorted(rows.all(), key=str) == sorted(
                [(digest_id, None), *((digest_id, r) for r in reader_ids[1:])], key=str
            )
            db.session.remove()
            db.engine.dispose()
    finally:
        if backend == "postgresql":
            drop_run_database(url)


def test_upgrading_fills_the_folded_titles_of_the_articles_already_stored(
    backend: str, tmp_path: Path
) -> None:
    from flask_migrate import upgrade

    url = (
        f"sqlite:///{tmp_path / 'old.sqlite'}"
        if backend == "sqlite"
        else create_run_database(f"fold{os.getpid()}")
    )
    app = create_app(_overrides(url), instance_path=tmp_path)
    try:
        with app.app_context():
            upgrade(revision="0008")
            articles = sa.table(
                "articles",
                sa.column("guid", sa.String),
                sa.column("url", sa.String),
                sa.column("title", sa.String),
                sa.column("lead", sa.Text),
                sa.column("lead_html", sa.Text),
                sa.column("tags", sa.JSON),
                sa.column("published_at", sa.DateTime(timezone=True)),
                sa.column("first_seen_at", sa.DateTime(timezone=True)),
                sa.column("updated_at", sa.DateTime(timezone=True)),
            )
            db.session.execute(
                sa.insert(articles),
                [
                    {
                        "guid": f"g{n}",
                        "url": f"https://revue.example/{n}",
                        "title": title,
                        "lead": "",
                        "lead_html": "",
                        "tags": [],
                        "published_at": WINDOW_START,
                        "first_seen_at": WINDOW_START,
                        "updated_at": WINDOW_START,
                    }
                    for n, title in enumerate(["Élections à Séoul", "LE CŒUR DU SAHEL"])
                ],
            )
            db.session.commit()

            upgrade()

            folded = db.session.execute(sa.text("SELECT title_folded FROM articles ORDER BY id"))
            assert folded.scalars().all() == ["elections a seoul", "le coeur du sahel"]
            db.session.remove()
            db.engine.dispose()
    finally:
        if backend == "postgresql":
            drop_run_database(url)
