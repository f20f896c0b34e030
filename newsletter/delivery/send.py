"""send_batch: one claimed batch, in groups, through one kept SMTP connection per worker process.

The readers are loaded as they are now; rows whose reader may no longer be mailed, or who has
nothing new, are recorded `skipped`; the rest go through the group pipeline (pipeline.py),
which asks the policy (policy.py) what each reply means. After any number of kills:
duplicates = 0, and uncertain rows <= SEND_GROUP_SIZE x SEND_GROUPS_IN_FLIGHT per kill of a
sending worker (docs/delivery.md).
"""

from __future__ import annotations

from newsletter.delivery.pipeline import (
    BatchReport,
    Clock,
    Composer,
    GroupPipeline,
    Parcel,
    message_id,
)
from newsletter.delivery.policy import RELAY_PAUSE, is_relay_refusal, paused_for_relay
from newsletter.delivery.readers import Reader, load_readers
from newsletter.delivery.store import LedgerStore, SqlLedger, sql_ledger
from newsletter.delivery.stream import Stream, favour_the_smtp_thread
from newsletter.ledger import Batch, Result
from newsletter.models import DeliveryState

__all__ = [
    "RELAY_PAUSE",
    "BatchReport",
    "Clock",
    "Composer",
    "Reader",
    "Stream",
    "favour_the_smtp_thread",
    "is_relay_refusal",
    "load_readers",
    "message_id",
    "reopen_refused_streak",
    "send_batch",
]


def send_batch(batch: Batch, *, composer: Composer, stream: Stream) -> BatchReport:
    """Send one claimed batch; every row ends recorded, released, or (if killed) uncertain."""
    report = BatchReport()
    with sql_ledger() as store:
        parcels = _sendable(batch, composer, report, store)
        pipeline = GroupPipeline(
            batch, parcels, composer=composer, stream=stream, store=store, report=report
        )
        return pipeline.run()


def _sendable(
    batch: Batch, composer: Composer, report: BatchReport, store: LedgerStore
) -> list[Parcel]:
    """The batch's rows to send, with reader and body; the others recorded `skipped` now."""
    clock = report.clock
    readers = load_readers([r.subscriber_id for r in batch.rows if r.subscriber_id])
    clock.lap("database")
    skipped: list[Result] = []
    parcels: list[Parcel] = []
    for row in batch.rows:
        reader = readers.get(row.subscriber_id or 0)
        if reader is None or not reader.sendable:
            skipped.append(Result(row.id, DeliveryState.SKIPPED, reply="no longer subscribed"))
            continue
        body = composer.body_for(reader.region_slugs, reader.language)
        if body is None:
            skipped.append(Result(row.id, DeliveryState.SKIPPED, reply="nothing new"))
            continue
        parcels.append((row, reader, body))
    clock.lap("render")
    store.record(batch, skipped)
    clock.lap("database")
    report.count(skipped)
    return parcels


def reopen_refused_streak(
    digest_id: int, stream: Stream, *, store: LedgerStore | None = None
) -> None:
    """Another worker paused the digest for the relay's refusals while this one was being
    refused too: this worker's refused rows in a row were the relay's fault as well."""
    refusals = stream.refusals
    if not refusals.ids:
        return
    store = store or SqlLedger()
    if paused_for_relay(*store.digest_state(digest_id)):
        store.reopen(refusals.ids)
        refusals.clear()
