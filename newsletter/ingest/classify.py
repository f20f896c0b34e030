"""Feed categories to regions, sections and tags, by a normalized match."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from newsletter.models import REGIONS, Section

# Spellings seen in feeds that differ from the slug once normalized.
REGION_ALIASES: dict[str, str] = {
    "ue": "union-europeenne",
    "europe": "union-europeenne",
    "le-monde-de-demain": "monde-de-demain",
    "amerique": "ameriques",
    "moyen-orient-et-maghreb": "moyen-orient",
}
SECTION_ALIASES: dict[str, Section] = {
    "grand-angle": Section.GRAND_ANGLE,
    "idees": Section.IDEES,
    "tribune-a-la-une": Section.IDEES,
    "en-continu": Section.EN_CONTINU,
}
# The featured op-ed label says the section (Idées) and is kept as a tag, which marks it.
SECTION_ONLY = {"tribune-a-la-une"}


def normalize(label: str) -> str:
    """'Union Européenne' -> 'union-europeenne': case, accents and punctuation ignored."""
    decomposed = unicodedata.normalize("NFKD", label)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", ascii_only.lower()).strip("-")


@dataclass
class Classification:
    region_slugs: list[str] = field(default_factory=list)
    section: Section | None = None
    tags: list[str] = field(default_factory=list)


def classify(categories: list[str], *, aliases: dict[str, str] | None = None) -> Classification:
    known = {slug for slug, _, _ in REGIONS}
    region_aliases = {**REGION_ALIASES, **(aliases or {})}
    result = Classification()
    for label in categories:
        key = normalize(label)
        if not key:
            continue
        slug = key if key in known else region_aliases.get(key)
        if slug in known:
            if slug not in result.region_slugs:
                result.region_slugs.append(slug)
        elif key in SECTION_ALIASES:
            result.section = result.section or SECTION_ALIASES[key]
            if key in SECTION_ONLY and label.strip() not in result.tags:
                result.tags.append(label.strip())
        elif label.strip() not in result.tags:
            result.tags.append(label.strip())
    return result
