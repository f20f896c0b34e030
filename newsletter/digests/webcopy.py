"""The web copy of a digest: what a 'Voir dans le navigateur' link shows.

A reader's link names the reader (see links.py): the copy's "Choisir mes régions" and "Se
désinscrire" lead to their own pages. Without a reader, or once the reader is erased, the copy
is a visitor's: it says where those links are (the foot of the email) and offers the form.
Either way the copy has no view-in-browser link: it would lead to itself.
"""

from __future__ import annotations

from newsletter.digests.assemble import menu_order
from newsletter.digests.compose import DigestComposer
from newsletter.digests.links import read_reader, read_view_token
from newsletter.digests.render import LABELS, Links
from newsletter.models import Subscriber, db
from newsletter.subscriptions.tokens import ReaderLinks


class BadLink(Exception):
    """Forged or damaged: answered 404, like a digest that is gone."""


def web_copy(token: str, reader_token: str | None) -> str | None:
    """The copy's HTML; None when nothing is new for its regions. BadLink for a bad link."""
    read = read_view_token(token)
    if read is None:
        raise BadLink
    digest_id, regions, language = read
    reader = _reader_links(reader_token) if reader_token else None
    try:
        composer = DigestComposer.load(digest_id)
    except LookupError:
        raise BadLink from None
    return render_copy(composer, regions, language, reader)


def render_copy(
    composer: DigestComposer,
    region_slugs: tuple[str, ...],
    language: str,
    reader: ReaderLinks | None,
) -> str | None:
    """Rendered with the values themselves, not placeholders: one page, one reader."""
    language = language if language in LABELS else "fr"
    slugs = menu_order(composer.window, region_slugs)
    links = Links(
        unsubscribe_url=reader.unsubscribe_url if reader else "",
        manage_url=reader.manage_url if reader else "",
        view_url="",
        greeting=LABELS[language]["greeting_anonymous"],
    )
    made = composer.render_with(slugs, language, links)
    return None if made is None else made[0].html


def _reader_links(reader_token: str) -> ReaderLinks | None:
    """The reader's links; None once the reader is erased (their pages would say nothing)."""
    reader = read_reader(reader_token)
    if reader is None:
        raise BadLink
    if db.session.get(Subscriber, reader.subscriber_id) is None:
        return None
    return reader.links
