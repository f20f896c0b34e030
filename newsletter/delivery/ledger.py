"""Moved to newsletter.ledger; re-exported here until the last callers move."""

from datetime import datetime

from newsletter.ledger import *  # noqa: F403
from newsletter.ledger import plan
from newsletter.ledger.rows import Batch, Claimed, Result  # noqa: F401
from newsletter.models import Digest


def plan_rows(digest: Digest, *, regions_with_news: set[str] | None, now: datetime) -> int:
    return plan(digest, regions_with_news=regions_with_news, now=now)
