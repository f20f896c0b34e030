"""Rendering a digest: (edition, sections, language, link placeholders) -> subject, text, HTML.

Pure: the data comes in as frozen dataclasses, nothing is queried. Article text is passed to
the templates as data and never compiled as a template; the HTML templates autoescape it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date

from newsletter.digests.assemble import ArticleItem, DigestSection
from newsletter.mail.render import RenderedEmail, one_line, render_email
from newsletter.models import DigestKind
from newsletter.models.article import SECTION_LABELS

LEAD_CHARS = 280
# Babel locales for dates: "29 décembre 2021", "29 December 2021".
DATE_LOCALES = {"fr": "fr_FR", "en": "en_GB"}

LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "weekly_heading": "Votre sélection de la semaine {week}",
        "special_heading": "Édition spéciale",
        "special": "Édition spéciale",
        "week": "semaine {week}",
        "articles": "{count} articles",
        "article": "1 article",
        "more_regions": "{regions} et {count} autres",
        "more_region": "{regions} et 1 autre",
        "top_story": "À la une",
        "by": "par",
        "read": "Lire l’article",
        "view": "Voir dans le navigateur",
        "manage": "Choisir mes régions",
        "unsubscribe": "Se désinscrire",
        "why": "Vous recevez cette lettre car vous suivez : {regions}.",
        "why_visitor": "Cette lettre a été envoyée aux lecteurs qui suivent : {regions}.",
        "visitor": "Vous la recevez ? Pour choisir vos régions ou vous désinscrire, suivez les "
        "liens en bas de l’email.",
        "subscribe": "S’abonner à la lettre",
        "greeting": "Bonjour {name},",
        "greeting_anonymous": "Bonjour,",
        "preheader_sep": " · ",
        "colon": " : ",
    },
    "en": {
        "weekly_heading": "Your selection for week {week}",
        "special_heading": "Special edition",
        "special": "Special edition",
        "week": "week {week}",
        "articles": "{count} articles",
        "article": "1 article",
        "more_regions": "{regions} and {count} more",
        "more_region": "{regions} and 1 more",
        "top_story": "Top story",
        "by": "by",
        "read": "Read the article",
        "view": "View in your browser",
        "manage": "Choose my regions",
        "unsubscribe": "Unsubscribe",
        "why": "You receive this letter because you follow: {regions}.",
        "why_visitor": "This letter was sent to the readers who follow: {regions}.",
        "visitor": "Do you receive it? To choose your regions or unsubscribe, follow the links "
        "at the foot of the email.",
        "subscribe": "Subscribe to the newsletter",
        "greeting": "Hello {name},",
        "greeting_anonymous": "Hello,",
        "preheader_sep": " · ",
        "colon": ": ",
    },
}


@dataclass(frozen=True)
class EditionInfo:
    """What rendering needs of a Digest row, detached from the session."""

    id: int
    kind: DigestKind
    window_start: datetime
    window_end: datetime
    intro: str | None
    timezone: str

    @property
    def week(self) -> int:
        """The ISO week of the window's middle: a Monday digest speaks of the week before."""
        middle = self.window_start + (self.window_end - self.window_start) / 2
        return middle.astimezone(ZoneInfo(self.timezone)).isocalendar()[1]


@dataclass(frozen=True)
class Links:
    """Values put in the links; per reader they are placeholders, filled by substitution.

    A web copy has no view link (it would lead to itself); a visitor's web copy has no
    reader's links either, and tells how to reach them instead.
    """

    unsubscribe_url: str
    manage_url: str
    view_url: str
    greeting: str
    # Where an article's link leads, given the article and the region section it sits in
    # (None: the pinned story): the click counter's link in a letter (clicks/refs.py). None
    # here: the article's own URL (web copy, click counting off).
    article_href: Callable[[ArticleItem, str | None], str] | None = None

    @property
    def for_visitor(self) -> bool:
        return not self.unsubscribe_url


@dataclass(frozen=True)
class ArticleView:
    title: str
    url: str
    section: str
    author: str
    date: str
    lead: str


def render_digest(
    edition: EditionInfo,
    sections: Sequence[DigestSection],
    pinned: ArticleItem | None,
    *,
    followed: Sequence[str],
    language: str,
    links: Links,
    base_url: str,
) -> RenderedEmail:
    labels = LABELS[language]
    zone = edition.timezone
    href = links.article_href or (lambda article, _section: article.url)
    views = [
        (
            section.region.name(language),
            [_view(a, language, zone, href(a, section.region.slug)) for a in section.articles],
        )
        for section in sections
    ]
    top = _view(pinned, language, edition.timezone, href(pinned, None)) if pinned else None
    count = sum(len(articles) for _, articles in views) + (1 if top else 0)
    region_names = [name for name, _ in views]
    titles = ([top.title] if top else []) + [a.title for _, articles in views for a in articles]
    return render_email(
        "digest",
        language=language,
        t=labels,
        subject=subject_line(edition, region_names, count, pinned, language=language),
        heading=_heading(edition, labels),
        intro=[p.strip() for p in _lf(edition.intro or "").split("\n\n") if p.strip()],
        top=top,
        sections=views,
        why=labels["why_visitor" if links.for_visitor else "why"].format(
            regions=", ".join(followed)
        ),
        preheader=_shorten(labels["preheader_sep"].join(one_line(t) for t in titles), 140),
        links=links,
        base_url=base_url,
    )


def subject_line(
    edition: EditionInfo,
    region_names: Sequence[str],
    count: int,
    pinned: ArticleItem | None,
    *,
    language: str,
) -> str:
    """'Russie, Afrique : 5 articles — semaine 48'; a special edition with a top story names it."""
    labels = LABELS[language]
    special = edition.kind is DigestKind.SPECIAL
    if pinned is not None and (special or not region_names):
        prefix = labels["special"] if special else labels["week"].format(week=edition.week)
        return one_line(f"{prefix[:1].upper()}{prefix[1:]} — {pinned.title}")
    regions = ", ".join(region_names[:3])
    if len(region_names) > 3:
        extra = len(region_names) - 3
        key = "more_region" if extra == 1 else "more_regions"
        regions = labels[key].format(regions=regions, count=extra)
    amount = labels["article"] if count == 1 else labels["articles"].format(count=count)
    tail = labels["special"] if special else labels["week"].format(week=edition.week)
    return one_line(f"{regions}{labels['colon']}{amount} — {tail}")


def format_day(moment: datetime, language: str, timezone: str) -> str:
    local = moment.astimezone(ZoneInfo(timezone)).date()
    return format_date(local, format="long", locale=DATE_LOCALES.get(language, "fr_FR"))


def _heading(edition: EditionInfo, labels: dict[str, str]) -> str:
    if edition.kind is DigestKind.SPECIAL:
        return labels["special_heading"]
    return labels["weekly_heading"].format(week=edition.week)


def _view(article: ArticleItem, language: str, timezone: str, url: str) -> ArticleView:
    section = SECTION_LABELS[article.section][language] if article.section else ""
    return ArticleView(
        # One line each: a CR/LF in a title must not break the text layout.
        title=one_line(article.title),
        url=url,
        section=section,
        author=one_line(article.author or ""),
        date=format_day(article.published_at, language, timezone),
        lead=_shorten(one_line(article.lead), LEAD_CHARS),
    )


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.")
    return cut + "…"


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
