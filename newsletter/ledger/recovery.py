"""Rows whose sender is gone: reclaimed when its lease ran out, released when its process is
known dead, and deferrals past the maximum age expired. Idempotent; the caller commits.

Either way the same rule: a row never handed over is given back (pending, its attempt
returned); a row handed over may have reached the relay and becomes `uncertain`, never re-sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from newsletter.ledger.rows import UNFINISHED, deliveries, give_back, lose
from newsletter.models import DeliveryState, in_digests
from newsletter.models.base import execute_dml


@dataclass(frozen=True)
class Recovered:
    pending: int  # given back: claimed, never handed over
    uncertain: int  # handed over, no reply recorded


def _held(*conditions: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    return sa.and_(
        in_digests(*UNFINISHED), deliveries.c.state == DeliveryState.SENDING.value, *conditions
    )


def _recover(held: sa.ColumnElement[bool], now: datetime) -> Recovered:
    pending = execute_dml(
        deliveries.update().where(held, deliveries.c.handoff_at.is_(None)).values(give_back())
    ).rowcount
    uncertain = execute_dml(
        deliveries.update().where(held, deliveries.c.handoff_at.is_not(None)).values(lose(now))
    ).rowcount
    return Recovered(int(pending), int(uncertain))


def reclaim(*, now: datetime) -> Recovered:
    """The rows whose lease ran out (the worker died, or hung past SEND_LEASE_SECONDS)."""
    return _recover(_held(deliveries.c.lease_expires_at < now), now)


def release_owners(owners: Sequence[str], *, now: datetime) -> Recovered:
    """The rows of worker processes known dead (delivery/liveness.py), before their lease
    runs out."""
    return _recover(_held(deliveries.c.lease_owner.in_(list(owners))), now)


def expire_deferred(*, now: datetime, max_age: timedelta) -> int:
    """Deferred rows older than SEND_MAX_AGE_HOURS: no more retries."""
    return execute_dml(
        deliveries.update()
        .where(
            in_digests(*UNFINISHED),
            deliveries.c.state == DeliveryState.DEFERRED.value,
            deliveries.c.created_at < now - max_age,
        )
        .values(state=DeliveryState.EXPIRED.value, finished_at=now)
    ).rowcount
