"""Clean content: sanitized summary HTML, its plain text, and a lead cut on a word boundary."""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin, urlsplit

import nh3

# What a digest may show of a summary: prose and links, nothing that runs or asks for input.
ALLOWED_TAGS = {"p", "br", "a", "strong", "b", "em", "i", "ul", "ol", "li", "blockquote", "q"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}
# Block ends become line breaks in the plain text of text emails.
_BLOCK_END = re.compile(r"(?i)<br\s*/?>|</(?:p|li|blockquote|ul|ol|h[1-6]|div)>")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
ELLIPSIS = "…"


def sanitize_html(fragment: str, *, base_url: str | None = None) -> str:
    """Allowlisted HTML with every link made absolute against `base_url`."""

    def absolute(tag: str, attribute: str, value: str) -> str | None:
        if attribute != "href":
            return value
        target = urljoin(base_url, value.strip()) if base_url else value.strip()
        # A link that is still relative has no meaning in an email: drop it.
        return target if urlsplit(target).scheme in URL_SCHEMES else None

    cleaned = nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=absolute,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return cleaned.strip()


def plain_text(fragment: str) -> str:
    """The text of an HTML fragment, paragraphs separated by a blank line."""
    with_breaks = _BLOCK_END.sub("\n\n", fragment)
    text = html.unescape(nh3.clean(with_breaks, tags=set(), clean_content_tags={"script", "style"}))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def cut_lead(text: str, length: int) -> str:
    """At most `length` characters, cut at the last word boundary, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= length:
        return text
    room = text[: max(0, length - len(ELLIPSIS)) + 1]
    cut = room.rsplit(" ", 1)[0] if " " in room else room[:-1]
    return cut.rstrip(" ,;:.-–—") + ELLIPSIS
