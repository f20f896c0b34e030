"""Counting a click: one atomic upsert-increment, on SQLite and PostgreSQL alike.

No row per click: one counter per (edition, article, section), and nothing beside it — no
time, address, agent or reader. Repeated clicks are not told apart (nothing could tell them
apart without naming the reader): each click a person makes counts, so the figure is clicks,
not readers who clicked.
"""

from __future__ import annotations

import time

from sqlalchemy.dialects import postgresql, sqlite

from newsletter.clicks.refs import ClickRef
from newsletter.models import ClickCount, db

# Scanners fetch links as the message arrives: a click this soon after the message was made
# is not counted (docs/clicks.md: the message's mint time is in its links).
SCANNER_SECONDS = 1
# A mint time of 0 is an editor's test email or the console's preview: never counted.
NOT_A_LETTER = 0


def counts(minted: int | None, *, now: float | None = None) -> bool:
    """Whether a click on a link minted at `minted` (Unix seconds) may count.

    Links without a readable mint time (typed by hand, cut short) still lead to the article
    but count nothing; nor does a mint time in the future (a clock apart, or an edited link).
    """
    if minted is None or minted == NOT_A_LETTER:
        return False
    elapsed = (time.time() if now is None else now) - minted
    # The link holds the whole second the message was made in, up to a second earlier than
    # the moment itself: one more second makes sure SCANNER_SECONDS really went by.
    return elapsed >= SCANNER_SECONDS + 1


def add_click(ref: ClickRef) -> None:
    """One more click on this article in this section of this edition; committed here."""
    table = ClickCount.__table__
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values(
        digest_id=ref.digest_id, article_id=ref.article_id, section=ref.section, clicks=1
    )
    # One statement, whoever else clicks at the same moment: the database adds, not Python.
    statement = statement.on_conflict_do_update(
        index_elements=["digest_id", "article_id", "section"],
        set_={"clicks": table.c.clicks + 1},
    )
    db.session.execute(statement)
    db.session.commit()
