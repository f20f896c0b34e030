"""The preference centre: change, pause, unsubscribe, export, erase."""

from __future__ import annotations

from typing import Any

from newsletter import jobs, ledger
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
from newsletter.models.base import execute_dml
from newsletter.models.subscriber import new_nonce
from newsletter.subscriptions.addresses import email_hmac
from newsletter.subscriptions.service import Provenance, record, regions_for


def change_preferences(
    subscriber: Subscriber,
    *,
    region_slugs: tuple[str, ...],
    language: str,
    paused: bool,
    provenance: Provenance,
) -> bool:
    """Save the reader's choices; True when something changed (and was recorded)."""
    before = (tuple(subscriber.region_slugs), subscriber.language, subscriber.paused)
    after_regions = regions_for(region_slugs)
    after = (tuple(r.slug for r in after_regions), language, paused)
    if before == after:
        return False
    if (before[0], before[1]) != (after[0], after[1]):
        subscriber.regions = after_regions
        subscriber.language = language
        detail = {"regions": list(after[0]), "language": language}
        record(ConsentKind.CHANGE, subscriber, _with(provenance, detail))
    if before[2] != paused:
        subscriber.paused = paused
        record(ConsentKind.PAUSE if paused else ConsentKind.RESUME, subscriber, provenance)
        if paused:
            ledger.cancel_for_readers([subscriber.id])
    db.session.commit()
    return True


def unsubscribe(subscriber: Subscriber, provenance: Provenance) -> bool:
    """Idempotent, and at once: deliveries not yet handed to SMTP are cancelled. False when
    the reader was already out."""
    left = leave(subscriber, ConsentKind.UNSUBSCRIBE, provenance)
    db.session.commit()
    db.session.refresh(subscriber)
    return left


def leave(subscriber: Subscriber, kind: ConsentKind, provenance: Provenance) -> bool:
    """The reader stops receiving mail, for the reason `kind` records (an unsubscribe, a
    complaint): unsubscribed by a conditional UPDATE (two clicks at once record it once), a
    new nonce, open deliveries cancelled. False when the reader was already out. The caller
    commits."""
    now = utcnow()
    changed = execute_dml(
        db.update(Subscriber)
        .where(
            Subscriber.id == subscriber.id,
            Subscriber.status.in_([SubscriberStatus.PENDING, SubscriberStatus.CONFIRMED]),
        )
        .values(
            status=SubscriberStatus.UNSUBSCRIBED,
            unsubscribed_at=now,
            token_nonce=new_nonce(),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        return False
    record(kind, subscriber, provenance)
    ledger.cancel_for_readers([subscriber.id])
    return True


def request_erasure(subscriber: Subscriber) -> None:
    """Erasure is confirmed from the mailbox: the link is mailed, valid for an hour."""
    jobs.enqueue("subscriptions.send_erase_link", subscriber.id)
    db.session.commit()


def erase(subscriber: Subscriber, provenance: Provenance) -> None:
    """Delete the reader; only the address's HMAC stays, so no import can add it back."""
    key = email_hmac(subscriber.email)
    exists = db.session.get(Suppression, key)
    if exists is None:
        db.session.add(Suppression(email_hmac=key, reason=SuppressionReason.ERASED))
    ledger.cancel_for_readers([subscriber.id])
    ledger.forget_readers([subscriber.id])
    # The proof of consent outlives the record, without the person: no IP, no user agent.
    db.session.execute(
        db.update(ConsentEvent)
        .where(ConsentEvent.subscriber_id == subscriber.id)
        .values(ip=None, user_agent=None, detail={}, subscriber_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.delete(subscriber)
    record(ConsentKind.ERASE, None, _with(provenance, {"suppression": key}, keep_person=False))
    db.session.commit()


def export_data(subscriber: Subscriber) -> dict[str, Any]:
    """Everything we hold about the reader, as JSON."""
    events = db.session.execute(
        db.select(ConsentEvent)
        .where(ConsentEvent.subscriber_id == subscriber.id)
        .order_by(ConsentEvent.id)
    ).scalars()
    return {
        "email": subscriber.email,
        "name": subscriber.name,
        "language": subscriber.language,
        "regions": subscriber.region_slugs,
        "status": subscriber.status.value,
        "paused": subscriber.paused,
        "created_at": subscriber.created_at.isoformat(),
        "confirmed_at": _iso(subscriber.confirmed_at),
        "unsubscribed_at": _iso(subscriber.unsubscribed_at),
        "consent_events": [
            {
                "kind": event.kind.value,
                "at": event.at.isoformat(),
                "ip": event.ip,
                "user_agent": event.user_agent,
                "form_version": event.form_version,
                "source": event.source,
            }
            for event in events
        ],
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def _with(
    provenance: Provenance, detail: dict[str, Any], *, keep_person: bool = True
) -> Provenance:
    return Provenance(
        ip=provenance.ip if keep_person else None,
        user_agent=provenance.user_agent if keep_person else None,
        source=provenance.source,
        form_version=provenance.form_version,
        detail={**provenance.detail, **detail},
        digest_id=provenance.digest_id,
    )
