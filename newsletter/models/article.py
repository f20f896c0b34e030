"""Articles and the feeds they come from."""

from __future__ import annotations

import enum
import unicodedata
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from newsletter.models.base import Model, db, str_enum, utcnow
from newsletter.models.region import Region


class Section(enum.StrEnum):
    GRAND_ANGLE = "grand-angle"
    IDEES = "idees"
    EN_CONTINU = "en-continu"


SECTION_LABELS: dict[Section, dict[str, str]] = {
    Section.GRAND_ANGLE: {"fr": "Grand Angle", "en": "Grand Angle"},
    Section.IDEES: {"fr": "Idées", "en": "Ideas"},
    Section.EN_CONTINU: {"fr": "En Continu", "en": "Latest news"},
}

article_regions = sa.Table(
    "article_regions",
    db.metadata,
    sa.Column("article_id", sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("region_id", sa.ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True),
    # The digest query goes from a region to its articles.
    sa.Index("ix_article_regions_region_id_article_id", "region_id", "article_id"),
)


class Feed(Model):
    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(2000), unique=True)
    title: Mapped[str | None] = mapped_column(sa.String(300))
    active: Mapped[bool] = mapped_column(default=True)
    etag: Mapped[str | None] = mapped_column(sa.String(300))
    last_modified: Mapped[str | None] = mapped_column(sa.String(100))
    last_polled_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    last_error_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Feed {self.url}>"


def fold(text: str) -> str:
    """Lower case without accents, œ and æ spelt out: "Écoles" finds "ecoles", "coeur" "cœur"."""
    decomposed = unicodedata.normalize(
        "NFKD", text.casefold().replace("œ", "oe").replace("æ", "ae")
    )
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class Article(Model):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The feed's guid, or the link when the feed gives none: the upsert key.
    guid: Mapped[str] = mapped_column(sa.String(2000), unique=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    title: Mapped[str] = mapped_column(sa.String(500))
    # The title folded (lower case, no accents) for the editors' search: "ecole" finds
    # "École" on SQLite (whose LIKE folds ASCII only) and PostgreSQL alike. Set with the title.
    title_folded: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    lead: Mapped[str] = mapped_column(sa.Text, default="")
    lead_html: Mapped[str] = mapped_column(sa.Text, default="")
    author: Mapped[str | None] = mapped_column(sa.String(200))
    section: Mapped[Section | None] = mapped_column(str_enum(Section, "section"))
    image_url: Mapped[str | None] = mapped_column(sa.String(2000))
    tags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    published_at: Mapped[datetime] = mapped_column(index=True)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    feed_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("feeds.id", ondelete="SET NULL"), index=True
    )

    regions: Mapped[list[Region]] = relationship(
        secondary=article_regions, order_by=Region.position, lazy="selectin"
    )
    feed: Mapped[Feed | None] = relationship()

    @validates("title")
    def _fold_title(self, key: str, title: str) -> str:
        self.title_folded = fold(title or "")[:500]
        return title

    @property
    def needs_region(self) -> bool:
        """No region: kept, shown to editors, in no regional digest until given one."""
        return not self.regions

    def __repr__(self) -> str:
        return f"<Article {self.guid}>"
