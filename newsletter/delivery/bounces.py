"""Bounces and complaints: what a report does to the reader it names, once.

hard bounce → one more hard bounce; at SEND_HARD_BOUNCES the reader is `bounced`, suppressed
(keyed hash, like an erasure) and their open deliveries cancelled. soft bounce → recorded only.
complaint → `unsubscribed` with a COMPLAINT consent event, suppressed, open deliveries cancelled.
The rules themselves are the subscriptions service's (subscriptions/bounces.py), shared with
the relay's 5xx replies at send time.
Each event is applied in its own transaction together with its BounceEvent row, whose key
(report Message-ID + recipient, or the provider's event id) makes a replay change nothing.
"""

from __future__ import annotations

import enum
import logging
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from newsletter.delivery.bounces_parse import Event, Junk, Kind, parse_report
from newsletter.models import BounceEvent, Delivery, Subscriber, db
from newsletter.subscriptions.addresses import AddressError, normalize_address
from newsletter.subscriptions.bounces import record_complaint, record_hard_bounces
from newsletter.subscriptions.service import Provenance

log = logging.getLogger(__name__)

# Our Message-IDs are <d{delivery id}.{digest id}.{mac}@domain> (delivery/pipeline.py:message_id).
_OUR_MESSAGE_ID = re.compile(r"<d(\d{1,18})\.\d{1,18}\.[0-9a-f]+@[^<>\s]+>")


class Outcome(enum.StrEnum):
    BOUNCED = "bounced"  # a hard bounce that reached the threshold
    HARD_BOUNCE = "hard-bounce"  # counted, below the threshold (or reader already out)
    SOFT_BOUNCE = "soft-bounce"  # recorded, nothing changed
    UNSUBSCRIBED = "unsubscribed"  # a complaint from a reader who was subscribed
    COMPLAINT = "complaint"  # a complaint from a reader already out
    DUPLICATE = "duplicate"  # seen before: nothing changed
    UNKNOWN_RECIPIENT = "unknown-recipient"  # names nobody we know: nothing changed


def apply_events(events: Sequence[Event], *, source: str) -> list[Outcome]:
    return [apply_event(event, source=source) for event in events]


def apply_event(event: Event, *, source: str) -> Outcome:
    """Apply one event and commit; a replay (same key) is DUPLICATE and changes nothing."""
    if db.session.get(BounceEvent, event.key) is not None:
        return Outcome.DUPLICATE
    letter = our_letter(event)
    subscriber = find_subscriber(event, letter)
    if subscriber is None:
        log.info("bounces.unknown_recipient source=%s kind=%s", source, event.kind)
        return Outcome.UNKNOWN_RECIPIENT
    if event.kind is Kind.HARD:
        outcome = _hard_bounce(subscriber, event, source)
    elif event.kind is Kind.COMPLAINT:
        outcome = _complaint(subscriber, event, source, letter)
    else:
        outcome = Outcome.SOFT_BOUNCE
    db.session.add(
        BounceEvent(
            key=event.key,
            kind=event.kind.value,
            subscriber_id=subscriber.id,
            status=event.status,
            source=source[:20],
        )
    )
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        # The same report arrived twice at once: the other transaction applied it.
        db.session.rollback()
        return Outcome.DUPLICATE
    log.info(
        "bounces.applied source=%s kind=%s subscriber=%s status=%s outcome=%s",
        source,
        event.kind,
        subscriber.id,
        event.status,
        outcome,
    )
    return outcome


def our_letter(event: Event) -> Delivery | None:
    """The delivery the report is about, when it quotes one of our Message-IDs."""
    match = _OUR_MESSAGE_ID.fullmatch(event.message_id or "")
    if not match:
        return None
    # By primary key, then checked: deliveries.message_id has no index, and needs none.
    delivery = db.session.get(Delivery, int(match.group(1)))
    if delivery is None or delivery.message_id != event.message_id:
        return None
    return delivery


def find_subscriber(event: Event, letter: Delivery | None = None) -> Subscriber | None:
    """By our Message-ID (the delivery row says who got it), else by the address."""
    if letter is not None and letter.subscriber_id:
        return db.session.get(Subscriber, letter.subscriber_id)
    if not event.email:
        return None
    try:
        email = normalize_address(event.email)
    except AddressError:
        email = event.email.lower()
    query = db.select(Subscriber).where(Subscriber.email == email)
    return db.session.execute(query).scalar_one_or_none()


def _hard_bounce(subscriber: Subscriber, event: Event, source: str) -> Outcome:
    bounced = record_hard_bounces([subscriber.id], provenance=_provenance(event, source))
    return Outcome.BOUNCED if bounced else Outcome.HARD_BOUNCE


def _complaint(
    subscriber: Subscriber, event: Event, source: str, letter: Delivery | None
) -> Outcome:
    # A complaint about one of our letters is counted against its edition (clicks/figures.py).
    provenance = _provenance(event, source, letter.digest_id if letter else None)
    changed = record_complaint(subscriber, provenance=provenance)
    return Outcome.UNSUBSCRIBED if changed else Outcome.COMPLAINT


def _provenance(event: Event, source: str, digest_id: int | None = None) -> Provenance:
    detail = {
        k: v
        for k, v in (
            ("status", event.status),
            ("diagnostic", event.diagnostic),
            ("message_id", event.message_id),
        )
        if v
    }
    return Provenance(source=source, detail=detail, digest_id=digest_id)


# --- the mailbox: `newsletter bounces process PATH` ------------------------------------------


@dataclass
class Summary:
    messages: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    junk: Counter[str] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        out = [f"{self.messages} message(s) read"]
        out += [f"  {name}: {count}" for name, count in sorted(self.outcomes.items())]
        out += [f"  ignored ({reason}): {count}" for reason, count in sorted(self.junk.items())]
        return out


def process_path(path: Path) -> Summary:
    summary = Summary()
    for file in message_files(path):
        summary.messages += 1
        try:
            events = parse_report(file.read_bytes())
        except Junk as exc:
            log.warning("bounces.junk source=mailbox file=%s reason=%s", file.name, exc)
            summary.junk[str(exc)] += 1
            continue
        except Exception as exc:  # noqa: BLE001 - one unreadable file never stops the rest
            log.warning("bounces.unreadable source=mailbox file=%s error=%r", file.name, exc)
            summary.junk["unreadable message"] += 1
            continue
        for outcome in apply_events(events, source="mailbox"):
            summary.outcomes[outcome.value] += 1
    return summary


def message_files(path: Path) -> Iterator[Path]:
    """A file; a Maildir (its new/ and cur/); or a directory of .eml files."""
    if path.is_file():
        yield path
        return
    if (path / "cur").is_dir() or (path / "new").is_dir():
        for sub in ("new", "cur"):
            folder = path / sub
            if folder.is_dir():
                yield from sorted(p for p in folder.iterdir() if p.is_file())
        return
    yield from sorted(p for p in path.glob("*.eml") if p.is_file())


bounces = click.Group("bounces", help="Bounce and complaint reports (RFC 3464, RFC 5965).")


@bounces.command("process")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@with_appcontext
def process_command(path: Path) -> None:
    """Apply the reports in PATH: an .eml file, a directory of .eml files, or a Maildir."""
    for line in process_path(path).lines():
        click.echo(line)
