"""The regions of the site's menu: what readers subscribe to."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.models.base import Model


class Region(Model):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name_fr: Mapped[str] = mapped_column(sa.String(80))
    name_en: Mapped[str] = mapped_column(sa.String(80))
    # Order of the site's main menu; digests list their sections in it.
    position: Mapped[int] = mapped_column(sa.SmallInteger, unique=True)

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_fr

    def __repr__(self) -> str:
        return f"<Region {self.slug}>"


# (slug, French, English) in menu order; the initial migration inserts these rows.
REGIONS: tuple[tuple[str, str, str], ...] = (
    ("union-europeenne", "Union européenne", "European Union"),
    ("russie", "Russie", "Russia"),
    ("ameriques", "Amériques", "Americas"),
    ("asie", "Asie", "Asia"),
    ("afrique", "Afrique", "Africa"),
    ("moyen-orient", "Moyen-Orient", "Middle East"),
    ("monde-de-demain", "Le monde de demain", "The world of tomorrow"),
)
