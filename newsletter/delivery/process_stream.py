"""The stream a sending process keeps between tasks, held by the Flask app it sends for.

One per process: the SMTP connection (reused across batches and tasks), the throttle, the
halt listener and the relay-refusal streak. Opened at the first drain, opened again when the
settings it was made from change (tests change SMTP_URL on a live app), closed when the worker
process stops (delivery/tasks.py connects that to Celery's signals). It lives on the app, not
in a module variable: each app has its own, and a test's app takes its stream with it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from typing import Any

from flask import Flask

from newsletter.delivery import adaptive, halt
from newsletter.delivery.retry import RetryPolicy
from newsletter.delivery.stream import Stream
from newsletter.delivery.throttle import Throttle
from newsletter.mail.domain import sender_domain
from newsletter.mail.pipelined import SmtpConnection
from newsletter.mail.smtp import SmtpSettings
from newsletter.models import db

EXTENSION = "delivery.stream"


@dataclass(frozen=True)
class _Held:
    stream: Stream
    settings: tuple[Any, ...]
    pid: int


def of_app(app: Flask) -> Stream:
    """This process's stream for `app`, opened on first use."""
    held: _Held | None = app.extensions.get(EXTENSION)
    settings = _settings(app.config)
    if held is not None and held.pid == os.getpid() and held.settings == settings:
        return held.stream
    close(app)  # settings changed: the old connection and threads go
    stream = _open(app.config)
    app.extensions[EXTENSION] = _Held(stream, settings, os.getpid())
    return stream


def close(app: Flask) -> None:
    """QUIT and stop the threads of this process's stream, if it has one."""
    held: _Held | None = app.extensions.pop(EXTENSION, None)
    # A forked child inherits its parent's stream: only the parent may say QUIT on it.
    if held is not None and held.pid == os.getpid():
        held.stream.close()


def _settings(config: Any) -> tuple[Any, ...]:
    return (
        config["SMTP_URL"],
        _mail_from(config),
        config["SEND_GROUP_SIZE"],
        config["SEND_GROUPS_IN_FLIGHT"],
    )


def _mail_from(config: Any) -> str:
    return str(config["SEND_RETURN_PATH"] or parseaddr(config["MAIL_FROM"])[1])


def _open(config: Any) -> Stream:
    settings = SmtpSettings.from_url(config["SMTP_URL"])
    settings = SmtpSettings(**{**settings.__dict__, "timeout": config["SEND_SMTP_TIMEOUT"]})
    parallel = max(1, config["SEND_PARALLEL"])
    redis = _redis(config["REDIS_URL"])
    return Stream(
        connection=SmtpConnection(
            settings, mail_from=_mail_from(config), max_messages=config["SEND_MAX_PER_CONNECTION"]
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
        pacer=adaptive.pacer_for(
            config, redis=redis, prefix=f"send-rates:{settings.host}:{settings.port}"
        ),
        halt=halt.watch(config["REDIS_URL"], db.engine.url.render_as_string(hide_password=True))
        if config["REDIS_URL"]
        else None,
    )


def _redis(url: str | None) -> Any:
    if not url:
        return None
    # Here, not at the top: the embedded setup (no REDIS_URL) never loads the Redis client.
    import redis

    return redis.Redis.from_url(url)
