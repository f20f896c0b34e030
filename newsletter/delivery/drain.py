"""drain(digest_id): claim and send batches for about SEND_TASK_SECONDS, then hand over.

A drain task is a nudge, not a list of recipients: it carries a digest id only. Losing one,
running two at once, or running one twice is harmless, since every row is taken by the claim.
"""

from __future__ import annotations

import importlib
import logging
import os
import resource
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app

from newsletter.delivery import halt, ledger
from newsletter.delivery.retry import RetryPolicy
from newsletter.delivery.send import (
    Composer,
    Stream,
    reopen_refused_streak,
    send_batch,
)
from newsletter.delivery.throttle import Throttle
from newsletter.mail.domain import sender_domain
from newsletter.mail.pipelined import SmtpConnection
from newsletter.mail.smtp import SmtpSettings
from newsletter.models import Digest, DigestStatus, db, utcnow

log = logging.getLogger("newsletter.delivery")

# One stream (SMTP connection, throttle) per worker process and relay, kept between tasks.
_streams: dict[tuple[Any, ...], Stream] = {}


@dataclass
class DrainReport:
    counts: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    more: bool = False  # rows are claimable now and this task ran out of time: go on
    stopped: str | None = None


def worker_stream() -> Stream:
    config = current_app.config
    mail_from = config["SEND_RETURN_PATH"] or _address(config["MAIL_FROM"])
    key = (
        os.getpid(),
        config["SMTP_URL"],
        mail_from,
        config["SEND_GROUP_SIZE"],
        config["SEND_GROUPS_IN_FLIGHT"],
    )
    stream = _streams.get(key)
    if stream is None:
        settings = SmtpSettings.from_url(config["SMTP_URL"])
        settings = SmtpSettings(**{**settings.__dict__, "timeout": config["SEND_SMTP_TIMEOUT"]})
        parallel = max(1, config["SEND_PARALLEL"])
        redis = _redis(config["REDIS_URL"])
        stream = Stream(
            connection=SmtpConnection(
                settings, mail_from=mail_from, max_messages=config["SEND_MAX_PER_CONNECTION"]
            ),
            throttle=Throttle(
                per_second=config["SEND_RATE_PER_SECOND"] / (1 if redis else parallel),
                per_hour=config["SEND_RATE_PER_HOUR"] // (1 if redis else parallel),
                key=f"send-rate:{settings.host}:{settings.port}",
                redis=redis,
            ),
            group_size=config["SEND_GROUP_SIZE"],
            in_flight=config["SEND_GROUPS_IN_FLIGHT"],
            lease_seconds=config["SEND_LEASE_SECONDS"],
            retry=RetryPolicy(
                min_seconds=config["SEND_RETRY_MIN_SECONDS"],
                max_seconds=config["SEND_RETRY_MAX_SECONDS"],
                max_age=timedelta(hours=config["SEND_MAX_AGE_HOURS"]),
            ),
            secret=config["SECRET_KEY"].encode(),
            domain=sender_domain(config["MAIL_FROM"]),
            hard_bounces=config["SEND_HARD_BOUNCES"],
            pause_after_rejects=config["SEND_PAUSE_AFTER_REJECTS"],
            halt=halt.watch(config["REDIS_URL"], db.engine.url.render_as_string(hide_password=True))
            if config["REDIS_URL"]
            else None,
        )
        close_streams()  # settings changed (tests): drop the old connection and thread
        _streams[key] = stream
    return stream


def close_streams() -> None:
    for stream in _streams.values():
        stream.close()
    _streams.clear()


def _address(mail_from: str) -> str:
    from email.utils import parseaddr

    return parseaddr(mail_from)[1]


def _redis(url: str | None) -> Any:
    if not url:
        return None
    import redis

    return redis.Redis.from_url(url)


def load_composer(digest_id: int) -> Composer:
    """DELIVERY_COMPOSER ("module:Class" with a .load(digest_id)); the digests' by default."""
    module, _, name = current_app.config["DELIVERY_COMPOSER"].partition(":")
    factory = getattr(importlib.import_module(module), name)
    return factory.load(digest_id)  # type: ignore[no-any-return]


def drain(
    digest_id: int, *, composer: Composer | None = None, owner: str | None = None
) -> DrainReport:
    """Send claimed batches of one digest until none is due or the time budget is spent.

    `owner`: this worker process's identity (liveness.py), named on every lease it takes."""
    config = current_app.config
    deadline = time.monotonic() + config["SEND_TASK_SECONDS"]
    stream = worker_stream()
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
