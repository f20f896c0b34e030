"""Page numbers from a URL, for every paginated list of the console."""

from __future__ import annotations

LAST_PAGE = 100_000  # far beyond any list here; bounds the OFFSET a URL can ask for


def page_number(raw: str) -> int | None:
    """A page number 1 to LAST_PAGE written in ASCII digits; None for anything else."""
    raw = raw.strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= 6 and 1 <= int(raw) <= LAST_PAGE:
        return int(raw)
    return None
