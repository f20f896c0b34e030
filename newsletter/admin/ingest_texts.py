"""The ingest's English reasons, in the console's language.

Fetching and reading feeds and pages fails in words written for the command line and the
logs, in English, and the feeds' last errors and the page imports keep those words as
written (the API and `newsletter feeds list` show them so). Here each wording is read back
(its variable parts as named groups) and said again in the console's language; a feed's
notes joined by "; " are said one by one. A wording not listed is shown as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask_babel import gettext as _
from flask_babel import ngettext

Say = Callable[..., str]

_REASONS: list[tuple[re.Pattern[str], Say]] = [
    # newsletter/ingest/fetch.py (and inflate.py, whose errors it passes on)
    (
        re.compile(r"^not an http\(s\) URL: (?P<url>.*)$", re.S),
        lambda url: _("not an http(s) address: %(url)s", url=url),
    ),
    (
        re.compile(r"^took longer than (?P<seconds>\S+) s; stopped$"),
        lambda seconds: _("took longer than %(seconds)s s; stopped", seconds=seconds),
    ),
    (
        re.compile(r"^no answer within (?P<seconds>\S+) seconds$"),
        lambda seconds: _("no answer within %(seconds)s seconds", seconds=seconds),
    ),
    (
        re.compile(r"^could not fetch: (?P<detail>.*)$", re.S),
        lambda detail: _("could not fetch: %(detail)s", detail=detail),
    ),
    (
        re.compile(r"^more than (?P<n>\d+) redirects$"),
        lambda n: _("more than %(n)s redirects", n=n),
    ),
    (
        re.compile(r"^HTTP (?P<status>\d{3}\b.*)$"),
        lambda status: _("the server answered HTTP %(status)s", status=status),
    ),
    (
        re.compile(r"^cannot resolve host (?P<host>.*)$"),
        lambda host: _("cannot find the host %(host)s", host=host),
    ),
    (
        re.compile(r"^refused: (?P<host>\S+) is a private or local address \((?P<address>.*)\)$"),
        lambda host, address: _(
            "refused: %(host)s is a private or local address (%(address)s)",
            host=host,
            address=address,
        ),
    ),
    (
        re.compile(r"^larger than (?P<n>\d+) bytes \((?P<declared>\d+) announced\)$"),
        lambda n, declared: _(
            "larger than %(n)s bytes (%(declared)s announced)", n=n, declared=declared
        ),
    ),
    (
        re.compile(r"^larger than (?P<n>\d+) bytes; stopped reading$"),
        lambda n: _("larger than %(n)s bytes; stopped reading", n=n),
    ),
    (
        re.compile(r"^corrupt (?P<encoding>\S+) data: (?P<detail>.*)$", re.S),
        lambda encoding, detail: _(
            "corrupt %(encoding)s data: %(detail)s", encoding=encoding, detail=detail
        ),
    ),
    (
        re.compile(r"^the (?P<encoding>\S+) data ends early$"),
        lambda encoding: _("the %(encoding)s data ends early", encoding=encoding),
    ),
    (
        re.compile(r"^unsupported Content-Encoding (?P<value>.*)$"),
        lambda value: _("unsupported Content-Encoding %(value)s", value=value),
    ),
    # newsletter/ingest/feeds.py and decode.py: a document that is no feed, notes on one read
    (re.compile(r"^an HTML page, not a feed$"), lambda: _("an HTML page, not a feed")),
    (
        re.compile(r"^invalid XML: (?P<detail>.*)$", re.S),
        lambda detail: _("invalid XML: %(detail)s", detail=detail),
    ),
    (re.compile(r"^not an RSS or Atom feed$"), lambda: _("not an RSS or Atom feed")),
    (
        re.compile(r"^(?P<num>\d+) item\(s\) without a link were skipped$"),
        lambda num: ngettext(
            "%(num)d item without a link was skipped",
            "%(num)d items without a link were skipped",
            int(num),
        ),
    ),
    (
        re.compile(r"^(?P<num>\d+) item\(s\) without a title were skipped$"),
        lambda num: ngettext(
            "%(num)d item without a title was skipped",
            "%(num)d items without a title were skipped",
            int(num),
        ),
    ),
    (
        re.compile(
            r"^no known encoding declared and the content is not UTF-8; read as (?P<codec>\S+)$"
        ),
        lambda codec: _(
            "no known encoding declared and the content is not UTF-8; read as %(codec)s",
            codec=codec,
        ),
    ),
    (
        re.compile(
            r"^declared encoding (?P<label>.*) does not match the content;"
            r" read as (?P<codec>\S+)$"
        ),
        lambda label, codec: _(
            "declared encoding %(label)s does not match the content; read as %(codec)s",
            label=label,
            codec=codec,
        ),
    ),
    # newsletter/ingest/polling.py
    (
        re.compile(r"^could not store: (?P<detail>.*)$", re.S),
        lambda detail: _("could not store the articles: %(detail)s", detail=detail),
    ),
    # newsletter/ingest/page.py: the fetch's own reason follows the page's address
    (
        re.compile(r"^could not fetch (?P<source>\S+): (?P<reason>.*)$", re.S),
        lambda source, reason: _(
            "could not fetch %(source)s: %(reason)s", source=source, reason=ingest_reason(reason)
        ),
    ),
    (
        re.compile(r"^the file is larger than (?P<n>\d+) bytes$"),
        lambda n: _("the file is larger than %(n)s bytes", n=n),
    ),
    (re.compile(r"^the uploaded file was not kept$"), lambda: _("the uploaded file was not kept")),
    (
        re.compile(r"^no article title found in the page$"),
        lambda: _("no article title found in the page"),
    ),
    (
        re.compile(r"^the page gives no address of its own \(canonical link or og:url\)$"),
        lambda: _("the page gives no address of its own (canonical link or og:url)"),
    ),
]


def _reworded(text: str) -> str | None:
    for pattern, say in _REASONS:
        match = pattern.match(text)
        if match:
            return say(**match.groupdict())
    return None


def _notes(text: str) -> list[tuple[str, str | None]]:
    """Each wording of the text (cut at its "; ", some wordings holding one themselves) with
    the console's words for it, None when it has none."""
    parts = text.split("; ")
    notes: list[tuple[str, str | None]] = []
    start = 0
    while start < len(parts):
        # The longest run of parts that is one wording (the whole text first).
        for end in range(len(parts), start, -1):
            written = "; ".join(parts[start:end])
            said = _reworded(written)
            if said is not None:
                break
        else:
            end, written, said = start + 1, parts[start], None
        notes.append((written, said))
        start = end
    return notes


def ingest_reason(text: str) -> str:
    """Why a feed or a page import failed, or what a feed's last reading noted, for the
    console; what it has no words for stays as written."""
    return "; ".join(said or written for written, said in _notes(text))


def is_known_ingest_reason(text: str) -> bool:
    """Whether the console has words of its own for all of it (the tests walk them all)."""
    return all(said is not None for _written, said in _notes(text))
