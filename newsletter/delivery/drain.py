"""drain(digest_id): claim and send batches for about SEND_TASK_SECONDS, then hand over.

A drain task is a nudge, not a list of recipients: it carries a digest id only. Losing one,
running two at once, or running one twice is harmless, since every row is taken by the claim.
"""

from __future__ import annotations

import logging
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from newsletter import ledger
from newsletter.delivery import process_stream
from newsletter.delivery.send import Composer, reopen_refused_streak, send_batch
from newsletter.digests.compose import DigestComposer
from newsletter.models import Digest, DigestStatus, db, utcnow

log = logging.getLogger("newsletter.delivery")


@dataclass
class DrainReport:
    counts: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    more: bool = False  # rows are claimable now and this task ran out of time: go on
    stopped: str | None = None


def drain(
    digest_id: int,
    *,
    load_composer: Callable[[int], Composer] = DigestComposer.load,
    owner: str | None = None,
) -> DrainReport:
    """Send claimed batches of one digest until none is due or the time budget is spent.

    `load_composer(digest_id)` makes what builds the messages, at the first batch: the
    digests' DigestComposer, or a double (the kill tests). `owner`: this worker process's
    identity (liveness.py), named on every lease it takes."""
    config = current_app.config
    deadline = time.monotonic() + config["SEND_TASK_SECONDS"]
    stream = process_stream.of_app(current_app)
    composer: Composer | None = None
    report = DrainReport()
    while True:
        if time.monotonic() >= deadline:
            report.more = _still_sending(digest_id)
            break
        if stream.halt is not None:
            stream.halt.forget(digest_id)  # the claim checks the digest is sending now
        batch = ledger.claim(
            digest_id,
            size=config["SEND_BATCH_SIZE"],
            lease_seconds=config["SEND_LEASE_SECONDS"],
            owner=owner,
        )
        if not batch.rows:
            if not _wait_for_due(digest_id, deadline):
                break
            continue
        composer = composer or load_composer(digest_id)
        started = time.monotonic()
        result = send_batch(batch, composer=composer, stream=stream)
        report.batches += 1
        for state, count in result.counts.items():
            report.counts[state] = report.counts.get(state, 0) + count
        _log_batch(digest_id, batch.rows, result, time.monotonic() - started)
        if result.stopped:
            report.stopped = result.stopped
            break
    reopen_refused_streak(digest_id, stream)
    ledger.finish_if_done(digest_id)
    db.session.rollback()
    return report


def _still_sending(digest_id: int) -> bool:
    status = db.session.execute(
        db.select(Digest.status).where(Digest.id == digest_id)
    ).scalar_one_or_none()
    db.session.rollback()
    return status is DigestStatus.SENDING


def _wait_for_due(digest_id: int, deadline: float) -> bool:
    """Nothing claimable now: wait for the next deferred row if it is due within 5 s and the
    budget. False: stop (digest not sending, nothing left, or due later: the reconciler's)."""
    if not _still_sending(digest_id):
        return False
    due = ledger.next_due(digest_id)
    db.session.rollback()
    if due is None:
        return False
    wait = (due - utcnow()).total_seconds()
    if wait > min(5.0, deadline - time.monotonic()):
        return False
    # Rows leased by another worker also show as "not claimable": a short nap, then look again.
    time.sleep(min(max(wait, 0.05), 1.0))
    return True


def _log_batch(digest_id: int, rows: Any, result: Any, seconds: float) -> None:
    clock = result.clock
    log.info(
        "delivery.batch digest=%s rows=%s %s seconds=%.3f cpu_render=%.4f cpu_build=%.4f "
        "cpu_smtp=%.4f cpu_db=%.4f rss_kb=%s stopped=%s",
        digest_id,
        len(rows),
        " ".join(f"{k}={v}" for k, v in sorted(result.counts.items())),
        seconds,
        clock.render,
        clock.build,
        clock.smtp,
        clock.database,
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        result.stopped,
    )
