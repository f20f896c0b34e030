"""Which editions the public archive shows: finished, a letter delivered, not hidden.

One rule for the archive (newsletter/archive/editions.py lists and serves by it) and for the
console (an edition's page links to its archive page only when the archive shows it). It
lives here, below both: the console may not import the archive (the layers in pyproject.toml).
"""

from __future__ import annotations

import sqlalchemy as sa

from newsletter.models import Delivery, DeliveryState, Digest, DigestStatus, db


def archived() -> sa.ColumnElement[bool]:
    """The rule as a condition correlated on the digest, for the archive's queries."""
    # One probe per edition into the deliveries' claim index (digest_id, state, ...).
    delivered = sa.exists().where(
        Delivery.digest_id == Digest.id, Delivery.state == DeliveryState.SENT
    )
    return sa.and_(
        Digest.status == DigestStatus.FINISHED,
        Digest.archive_hidden.is_(False),
        delivered,
    )


def is_archived(digest_id: int) -> bool:
    query = sa.select(Digest.id).where(Digest.id == digest_id).where(archived())
    return db.session.execute(query).first() is not None
