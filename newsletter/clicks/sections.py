"""Which sections a letter had, as one number the ledger records with `sent`.

Bit 0: the pinned story; bit n: the region whose id is n (ids, not menu positions: editors may
reorder the menu, and a letter's record must keep its meaning). The seven regions have small
ids; a region whose id does not fit in a BIGINT's bits is left out of the figure, never sent
wrong. Clicks per 1,000 of a section divide its clicks by the letters whose mask has its bit.
"""

from __future__ import annotations

from collections.abc import Iterable

TOP_BIT = 1
MAX_REGION_ID = 62  # bit 63 would be the sign of PostgreSQL's bigint


def letter_sections(region_ids: Iterable[int], *, pinned: bool) -> int:
    """The mask of a letter with these region sections, and the pinned story or not."""
    mask = TOP_BIT if pinned else 0
    for region_id in region_ids:
        if 0 < region_id <= MAX_REGION_ID:
            mask |= 1 << region_id
    return mask
