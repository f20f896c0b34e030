"""The schema comes from the migrations, and the models agree with them."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from newsletter.models import REGIONS, Region, db


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
