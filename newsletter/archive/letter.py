"""An archived edition as a page: the email's own templates, as a visitor's web copy.

Rendered through the composer like every email, with a visitor's links: no reader's name,
no manage or unsubscribe link, no view-in-browser link, no token; the footer invites to
subscribe instead.
"""

from __future__ import annotations

from newsletter.digests.assemble import menu_order
from newsletter.digests.compose import DigestComposer
from newsletter.digests.render import LABELS, Links
from newsletter.models import Digest


def render_letter(digest: Digest, *, region: str | None, language: str) -> str | None:
    """The edition for every region it covered (or this one only); None when it shows nothing."""
    language = language if language in LABELS else "fr"
    composer = DigestComposer.for_digest(digest)
    if region is not None:
        slugs: tuple[str, ...] = (region,)
    elif digest.region_slugs:
        slugs = tuple(digest.region_slugs)
    else:
        slugs = tuple(r.slug for r in composer.window.regions)
    links = Links(
        unsubscribe_url="",
        manage_url="",
        view_url="",
        greeting=LABELS[language]["greeting_anonymous"],
    )
    made = composer.render_with(menu_order(composer.window, slugs), language, links)
    return None if made is None else made[0].html
