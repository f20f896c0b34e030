"""Every periodic job, in one table (Celery beat)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from celery.schedules import crontab

from newsletter.cron import parse_cron


def beat_schedule(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        "weekly-digest": {
            "task": "digests.plan_weekly",
            # In TIMEZONE: Celery's `timezone` setting is that zone.
            "schedule": crontab(**parse_cron(config["DIGEST_SCHEDULE"])),
        },
        "scheduled-editions": {
            "task": "digests.start_due",
            "schedule": timedelta(seconds=60),
        },
        "poll-feeds": {
            "task": "ingest.poll_feeds",
            "schedule": timedelta(minutes=max(1, config["FEED_POLL_MINUTES"])),
        },
        "purge-pending": {
            "task": "subscriptions.purge_pending",
            "schedule": timedelta(hours=6),
        },
        "reconcile-deliveries": {
            "task": "delivery.reconcile",
            "schedule": timedelta(seconds=60),
        },
    }
