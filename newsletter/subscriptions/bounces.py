"""What a hard bounce or a complaint does to a reader: one rule, whoever reports it.

A relay's 5xx at send time (delivery/pipeline.py), a DSN from the bounce mailbox and a provider's
webhook (delivery/bounces.py) all go through record_hard_bounces; complaints through
record_complaint. The caller commits, together with whatever it records beside.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from flask import current_app

from newsletter import ledger
from newsletter.models import (
    ConsentEvent,
    ConsentKind,
    Subscriber,
    SubscriberStatus,
    Suppression,
    SuppressionReason,
    db,
    utcnow,
)
from newsletter.models.subscriber import new_nonce
from newsletter.subscriptions.addresses import email_hmac
from newsletter.subscriptions.preferences import leave
from newsletter.subscriptions.service import Provenance

# Readers who may still be mailed: only they can become bounced or unsubscribed.
_ACTIVE = (SubscriberStatus.PENDING, SubscriberStatus.CONFIRMED)


def record_hard_bounces(
    subscriber_ids: Sequence[int], *, provenance: Provenance, threshold: int | None = None
) -> list[int]:
    """One more hard bounce for each reader. Those reaching the threshold (SEND_HARD_BOUNCES)
    are bounced: new token nonce (their old links stop working), address suppressed, open
    deliveries cancelled, a BOUNCE consent event. Returns the ids bounced by this call.

    Send time calls this once per SMTP group: a fixed number of statements per call, whatever
    the number of readers, and only two when nobody reaches the threshold."""
    if not subscriber_ids:
        return []
    limit = max(1, current_app.config["SEND_HARD_BOUNCES"] if threshold is None else threshold)
    s = Subscriber.__table__
    ids = list(subscriber_ids)
    db.session.execute(s.update().where(s.c.id.in_(ids)).values(hard_bounces=s.c.hard_bounces + 1))
    bounced = db.session.execute(
        s.update()
        .where(
            s.c.id.in_(ids),
            s.c.hard_bounces >= limit,
            s.c.status.in_([status.value for status in _ACTIVE]),
        )
        # One fresh nonce for the readers bounced together: tokens are signed over id + nonce.
        .values(status=SubscriberStatus.BOUNCED.value, token_nonce=new_nonce(), updated_at=utcnow())
        .returning(s.c.id, s.c.email)
    ).all()
    if not bounced:
        return []
    suppress([email for _, email in bounced], SuppressionReason.HARD_BOUNCE)
    ledger.cancel_for_readers([subscriber_id for subscriber_id, _ in bounced])
    db.session.add_all(
        ConsentEvent(
            subscriber_id=subscriber_id,
            kind=ConsentKind.BOUNCE,
            source=provenance.source[:200],
            detail=provenance.detail,
        )
        for subscriber_id, _ in bounced
    )
    return [subscriber_id for subscriber_id, _ in bounced]


def record_complaint(subscriber: Subscriber, *, provenance: Provenance) -> bool:
    """The reader marked us as spam: unsubscribed as by the preference centre (with its own
    consent kind) and suppressed. False when the reader was already out, and then nothing
    changes."""
    if not leave(subscriber, ConsentKind.COMPLAINT, provenance):
        return False
    # Suppressed too: a form or API request in their name must not mail them again.
    suppress([subscriber.email], SuppressionReason.COMPLAINT)
    return True


def suppress(emails: Sequence[str], reason: SuppressionReason) -> None:
    """Keyed hashes of the addresses, like an erasure; an existing suppression is kept."""
    keys = {email_hmac(email) for email in emails}
    known = db.session.execute(
        sa.select(Suppression.email_hmac).where(Suppression.email_hmac.in_(keys))
    ).scalars()
    db.session.add_all(
        Suppression(email_hmac=key, reason=reason) for key in sorted(keys - set(known))
    )
