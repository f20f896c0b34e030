"""Uncertain rows, decided by a person: list them, settle them from the relay's log, or send
them again.

A row is `uncertain` when the connection died after the message was handed over and before
the relay's reply: the one case no sender can know, so the service never re-sends it by
itself. The relay's own log can tell: Postfix, for one, logs `message-id=<…>` for every
message it accepted, and ours are unique per row. What the log shows accepted becomes
`sent`; what it does not show may be sent again, under the same Message-ID (it is derived
from the row), so a reader's mail client can still recognise a duplicate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from newsletter import ledger
from newsletter.delivery.control import send_rows_again
from newsletter.models import (
    Delivery,
    DeliveryState,
    Subscriber,
    db,
)

# Angle-bracketed ids, however the log line frames them (message-id=<…>, Message-ID: <…>).
_MESSAGE_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")


@dataclass(frozen=True)
class UncertainRow:
    delivery_id: int
    email: str | None  # None once the reader is erased
    message_id: str | None
    handoff_at: datetime | None
    reply: str | None


def uncertain_rows(digest_id: int) -> list[UncertainRow]:
    rows = db.session.execute(
        sa.select(
            Delivery.id,
            Subscriber.email,
            Delivery.message_id,
            Delivery.handoff_at,
            Delivery.smtp_reply,
        )
        .outerjoin(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.digest_id == digest_id, Delivery.state == DeliveryState.UNCERTAIN)
        .order_by(Delivery.id)
    ).all()
    return [UncertainRow(*row) for row in rows]


def message_ids_in(lines: Iterable[str]) -> set[str]:
    """Every Message-ID written in a relay's log (or any text)."""
    found: set[str] = set()
    for line in lines:
        found.update(_MESSAGE_ID.findall(line))
    return found


def settle_from_log(digest_id: int, accepted: set[str], *, source: str) -> int:
    """Uncertain rows whose Message-ID the relay logged as accepted become `sent`."""
    settled = [
        row.delivery_id
        for row in uncertain_rows(digest_id)
        if row.message_id and row.message_id in accepted
    ]
    ledger.settle_uncertain(settled, source=source)
    db.session.commit()
    return len(settled)


def send_again(digest_id: int) -> int:
    """Every uncertain row back to `pending`, and the digest sending again. Returns the count.

    A person's decision: a reader whose message did reach the relay gets it twice.
    """
    return send_rows_again(digest_id, ledger.send_uncertain_again, "uncertain")
