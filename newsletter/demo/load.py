"""Load the demo: the sample feed's articles, dated within the last days, and a few readers.

The articles are dated again at every load, relative to that moment: a later `make run`
(the next week, the next month) still finds them "new" in the first weekly digest's window and
in a special edition's default window (the last 7 days). They keep their guids, so a second
load updates the same eight articles; the readers go through the CSV import, which adds no
one twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from newsletter.ingest.feeds import ingest_document
from newsletter.models import utcnow
from newsletter.subscriptions.csvsource import inspect
from newsletter.subscriptions.importer import import_csv

HERE = Path(__file__).parent
FEED = HERE / "revue-internationale-sample.rss"
READERS = HERE / "readers.csv"
# Hours before the load, newest first, one per item of the feed: spread over the last five
# days, as a week of the site's articles would be, and all inside the last seven.
AGES_IN_HOURS = (2, 5, 27, 31, 53, 77, 101, 125)
CONSENT_NOTE = "demonstration readers of `newsletter demo load`"

_PUB_DATE = re.compile(rb"<pubDate>[^<]*</pubDate>")


@dataclass(frozen=True)
class DemoReport:
    articles_new: int
    articles_kept: int
    oldest: datetime
    newest: datetime
    readers_new: int
    readers_known: int


def load_demo(*, now: datetime | None = None) -> DemoReport:
    now = now or utcnow()
    dates = [now - timedelta(hours=hours) for hours in AGES_IN_HOURS]
    articles = ingest_document(dated_feed(FEED.read_bytes(), dates))
    readers = import_csv(inspect(READERS), confirmed=True, consent_note=CONSENT_NOTE)
    return DemoReport(
        articles_new=articles.created,
        articles_kept=articles.updated + articles.unchanged,
        oldest=min(dates),
        newest=max(dates),
        readers_new=readers.added,
        # A demo reader someone erased stays erased (suppressed): counted with the known.
        readers_known=readers.already_known + len(readers.rejected),
    )


def dated_feed(document: bytes, dates: list[datetime]) -> bytes:
    """The feed with its items' dates replaced, in order; the rest of it byte for byte."""
    stamps = iter(dates)
    count = len(_PUB_DATE.findall(document))
    if count != len(dates):
        raise ValueError(f"the demo feed has {count} dated items for {len(dates)} dates")
    return _PUB_DATE.sub(
        lambda _: f"<pubDate>{format_datetime(next(stamps))}</pubDate>".encode(), document
    )
