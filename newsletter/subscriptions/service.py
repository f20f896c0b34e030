"""Subscribing and confirming: the double opt-in, identical outside whatever the address's state."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError

from newsletter import jobs, ledger
from newsletter.models import (
    ConsentEvent,
    ConsentKind,
    Region,
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

LANGUAGES = ("fr", "en")


@dataclass(frozen=True)
class Provenance:
    """Where a change came from: what a regulator asks to see."""

    ip: str | None = None
    user_agent: str | None = None
    source: str = "form"
    form_version: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    # The edition whose letter carried the link or drew the complaint, when one did.
    digest_id: int | None = None


@dataclass(frozen=True)
class Request:
    """A validated subscription request: normalized address, known regions, known language."""

    email: str
    name: str | None
    region_slugs: tuple[str, ...]
    language: str


class ConfirmOutcome(enum.Enum):
    CONFIRMED = "confirmed"
    ALREADY_CONFIRMED = "already-confirmed"
    INVALID = "invalid"


def all_regions() -> Sequence[Region]:
    return db.session.execute(db.select(Region).order_by(Region.position)).scalars().all()


def regions_for(slugs: Sequence[str]) -> list[Region]:
    return [region for region in all_regions() if region.slug in set(slugs)]


def record(kind: ConsentKind, subscriber: Subscriber | None, provenance: Provenance) -> None:
    db.session.add(
        ConsentEvent(
            subscriber_id=subscriber.id if subscriber else None,
            kind=kind,
            ip=provenance.ip,
            user_agent=(provenance.user_agent or "")[:400] or None,
            form_version=provenance.form_version,
            source=provenance.source[:200],
            detail=provenance.detail,
            digest_id=provenance.digest_id,
        )
    )


def is_suppressed(email: str, *, reasons: Sequence[SuppressionReason] | None = None) -> bool:
    query = db.select(Suppression.reason).where(Suppression.email_hmac == email_hmac(email))
    reason = db.session.execute(query).scalar_one_or_none()
    return reason is not None and (reasons is None or reason in reasons)


# Suppressed for good: the same answer as everyone, and no email (an editor lifts it).
BLOCKING_SUPPRESSIONS = (
    SuppressionReason.HARD_BOUNCE,
    SuppressionReason.COMPLAINT,
    SuppressionReason.MANUAL,
)


def subscribe(request: Request, provenance: Provenance) -> None:
    """Start (or restart) the double opt-in; what the caller shows never depends on the outcome.

    The caller has already taken a mail slot for the address (abuse.take_mail_slot).
    """
    # Two requests for one new address at once: the loser's INSERT meets the unique key (on
    # SQLite, possibly a lock or a snapshot another process wrote since). It rolls back, which
    # drops its queued email too, and starts again: this time it finds the winner's row.
    for attempt in range(3):
        try:
            _subscribe(request, provenance)
            return
        except (IntegrityError, OperationalError):
            db.session.rollback()
            if attempt == 2:
                raise


def _subscribe(request: Request, provenance: Provenance) -> None:
    subscriber = db.session.execute(
        db.select(Subscriber).where(Subscriber.email == request.email)
    ).scalar_one_or_none()
    # An erased reader may come back through double opt-in; bounces and complaints may not.
    if is_suppressed(request.email, reasons=BLOCKING_SUPPRESSIONS):
        return
    if subscriber is None:
        subscriber = Subscriber(email=request.email, status=SubscriberStatus.PENDING)
        db.session.add(subscriber)
    elif subscriber.status == SubscriberStatus.CONFIRMED:
        # Nothing changes on someone else's say-so: the reader gets a link to their own page.
        jobs.enqueue("subscriptions.send_already_subscribed", subscriber.id)
        db.session.commit()
        return
    elif subscriber.status in (SubscriberStatus.COMPLAINED, SubscriberStatus.BOUNCED):
        return
    else:
        # Pending or unsubscribed: this request replaces any earlier one, and the earlier
        # links die with the old nonce, so a link only ever confirms what it was sent for.
        subscriber.status = SubscriberStatus.PENDING
        subscriber.token_nonce = new_nonce()
    subscriber.name = request.name
    subscriber.language = request.language
    subscriber.regions = regions_for(request.region_slugs)
    db.session.flush()
    record(ConsentKind.SUBSCRIBE, subscriber, provenance)
    jobs.enqueue("subscriptions.send_confirmation", subscriber.id)
    db.session.commit()


def lift_suppression(email: str) -> bool:
    """An editor's word that this address may subscribe again (through double opt-in).

    Removes the suppression and turns a bounced or complained reader into an unsubscribed
    one; the reader still has to subscribe and confirm. False when there was nothing to lift.
    """
    removed = execute_dml(
        db.delete(Suppression).where(
            Suppression.email_hmac == email_hmac(email),
            Suppression.reason.in_(BLOCKING_SUPPRESSIONS),
        )
    ).rowcount
    reopened = execute_dml(
        db.update(Subscriber)
        .where(
            Subscriber.email == email,
            Subscriber.status.in_((SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED)),
        )
        .values(status=SubscriberStatus.UNSUBSCRIBED, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return bool(removed or reopened)


def confirm(
    subscriber: Subscriber | None, nonce: str | None, provenance: Provenance
) -> ConfirmOutcome:
    """Confirm once: the nonce rotates, so the same link then says "already confirmed"."""
    if subscriber is None:
        return ConfirmOutcome.INVALID
    if subscriber.status == SubscriberStatus.CONFIRMED:
        return ConfirmOutcome.ALREADY_CONFIRMED
    if subscriber.status != SubscriberStatus.PENDING or nonce != subscriber.token_nonce:
        return ConfirmOutcome.INVALID
    # Claimed by a conditional UPDATE: two clicks at once confirm (and record) once.
    now = utcnow()
    claimed = execute_dml(
        db.update(Subscriber)
        .where(
            Subscriber.id == subscriber.id,
            Subscriber.status == SubscriberStatus.PENDING,
            Subscriber.token_nonce == nonce,
        )
        .values(
            status=SubscriberStatus.CONFIRMED,
            token_nonce=new_nonce(),
            confirmed_at=now,
            unsubscribed_at=None,
            paused=False,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.rollback()
        return ConfirmOutcome.ALREADY_CONFIRMED
    # Whoever confirms owns the address: an erasure's suppression is lifted.
    db.session.execute(
        db.delete(Suppression).where(
            Suppression.email_hmac == email_hmac(subscriber.email),
            Suppression.reason == SuppressionReason.ERASED,
        )
    )
    record(ConsentKind.CONFIRM, subscriber, provenance)
    db.session.commit()
    db.session.refresh(subscriber)
    return ConfirmOutcome.CONFIRMED


def can_resend(subscriber: Subscriber | None, nonce: str | None) -> bool:
    return (
        subscriber is not None
        and subscriber.status == SubscriberStatus.PENDING
        and nonce == subscriber.token_nonce
    )


def resend_confirmation(subscriber: Subscriber) -> None:
    jobs.enqueue("subscriptions.send_confirmation", subscriber.id)
    db.session.commit()


def purge_pending(*, older_than_days: int) -> int:
    """Delete readers who never confirmed, with their (never completed) consent events."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    # updated_at, not created_at: a reader who comes back after unsubscribing is pending anew.
    stale = (
        db.select(Subscriber.id)
        .where(Subscriber.status == SubscriberStatus.PENDING, Subscriber.updated_at < cutoff)
        .scalar_subquery()
    )
    db.session.execute(
        db.delete(ConsentEvent)
        .where(ConsentEvent.subscriber_id.in_(stale))
        .execution_options(synchronize_session=False)
    )
    ledger.forget_readers(stale)  # a reader back to pending after an unsubscribe has old rows
    result = execute_dml(
        db.delete(Subscriber)
        .where(Subscriber.status == SubscriberStatus.PENDING, Subscriber.updated_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return int(result.rowcount or 0)
