"""What a reader's departure does to the ledger: open rows cancelled, erased readers forgotten.

Called by the subscriptions service (unsubscribe, complaint, hard bounce, erasure) in its own
transaction; the caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from newsletter.ledger.rows import CLAIMABLE, OPEN_DIGESTS, deliveries, values
from newsletter.models import DeliveryState, db, in_digests, utcnow


def cancel_for_readers(subscriber_ids: Sequence[int]) -> None:
    """The readers' rows not yet claimed are cancelled, in one statement. A row in `sending`
    is already with a sender: the sender re-checks the reader before building its message."""
    if not subscriber_ids:
        return
    db.session.execute(
        deliveries.update()
        .where(
            # Open rows belong to unfinished digests: a probe per digest, not a scan.
            in_digests(*OPEN_DIGESTS),
            deliveries.c.subscriber_id.in_(list(subscriber_ids)),
            deliveries.c.state.in_(values(CLAIMABLE)),
        )
        .values(state=DeliveryState.CANCELLED.value, finished_at=utcnow())
    )


def forget_readers(subscriber_ids: Any) -> None:
    """Readers about to be deleted: their rows stay as counts, without the person (the column
    has no foreign key to do it). Ids: a list or a scalar subquery."""
    db.session.execute(
        deliveries.update()
        .where(in_digests(), deliveries.c.subscriber_id.in_(subscriber_ids))
        .values(subscriber_id=None)
    )
