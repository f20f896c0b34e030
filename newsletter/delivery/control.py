"""Pause, resume and cancel a digest, as editors ask: the ledger's transition, then the commit,
then the news (drains enqueued, workers told).

A pause flips the digest and gives back every claimed row not yet handed over. With Redis it
is also published to every worker (delivery/halt.py), whose SMTP thread checks before each
message: each worker completes the message it is writing and sends nothing more. Without
Redis, the senders' next handoff (C2), fenced on the digest still sending, stops them after at
most the groups they had handed over. Resume re-sends nothing: it only lets the claim take the
rows that are still pending or deferred.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import current_app

from newsletter import jobs, ledger
from newsletter.delivery import halt
from newsletter.models import Digest, DigestStatus, db


class NotAllowed(Exception):
    """The digest is not in a state where this action applies; the message says why."""


def _status(digest_id: int) -> DigestStatus | None:
    return db.session.execute(
        sa.select(Digest.status).where(Digest.id == digest_id)
    ).scalar_one_or_none()


def pause(digest_id: int, *, reason: str = "paused by an editor") -> None:
    """sending → paused, with the reason shown to editors."""
    if not ledger.pause(digest_id, reason=reason):
        status = _status(digest_id)
        db.session.rollback()
        if status is DigestStatus.PAUSED:
            return
        raise NotAllowed(f"digest {digest_id} is {status or 'unknown'}, not sending")
    db.session.commit()
    _announce(digest_id, halted=True)


def resume(digest_id: int) -> None:
    """paused → sending; drains are enqueued once that is committed."""
    if not ledger.resume(digest_id):
        status = _status(digest_id)
        db.session.rollback()
        if status is DigestStatus.SENDING:
            return
        raise NotAllowed(f"digest {digest_id} is {status or 'unknown'}, not paused")
    enqueue_drains(digest_id, current_app.config["SEND_PARALLEL"])
    db.session.commit()
    _announce(digest_id, halted=False)


def cancel(digest_id: int) -> int:
    """Stop for good: every row not yet handed over becomes cancelled. Returns that count."""
    cancelled = ledger.cancel(digest_id)
    if cancelled is None:
        status = _status(digest_id)
        db.session.rollback()
        raise NotAllowed(f"digest {digest_id} is {status or 'unknown'}; it cannot be cancelled")
    db.session.commit()
    _announce(digest_id, halted=True)
    return cancelled


def send_failed_again(digest_id: int) -> int:
    """The digest's failed rows sent again, once their cause is fixed (a relay rule lifted, a
    mailbox no longer full). Readers bounced or gone since are skipped. Returns the count."""
    return send_rows_again(digest_id, ledger.send_failed_again, "failed")


def send_rows_again(digest_id: int, transition: Callable[[int], int], what: str) -> int:
    """Rows in a final state back to pending by `transition` (a ledger function), the digest
    sending again; drains enqueued once that is committed (a paused digest waits for its
    resume). Not for a cancelled digest, nor one not yet planned."""
    status = db.session.execute(
        sa.select(Digest.status).where(Digest.id == digest_id).with_for_update()
    ).scalar_one_or_none()
    if status is None or status in (DigestStatus.CANCELLED, DigestStatus.PLANNED):
        db.session.rollback()
        raise NotAllowed(
            f"digest {digest_id} is {status or 'unknown'}; its {what} rows stay as they are"
        )
    count = transition(digest_id)
    if count and status in (DigestStatus.SENDING, DigestStatus.FINISHED):
        enqueue_drains(digest_id, current_app.config["SEND_PARALLEL"])
    db.session.commit()
    return count


def _announce(digest_id: int, *, halted: bool) -> None:
    # Scoped to this database's digests (the password is left out of what is hashed).
    database = db.engine.url.render_as_string(hide_password=True)
    halt.announce(current_app.config["REDIS_URL"], database, digest_id, halted=halted)


def enqueue_drains(digest_id: int, count: int) -> None:
    """`count` drain tasks for a digest, sent when the current transaction commits."""
    for _ in range(max(0, count)):
        jobs.enqueue("delivery.drain", digest_id)
