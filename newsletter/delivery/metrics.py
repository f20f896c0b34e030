"""Prometheus metrics at /metrics: the ledger counted at scrape time, send latency from workers.

The web process (gunicorn) and the Celery workers are separate processes, so the web process
holds no delivery counters of its own. Two sources instead:

- Ledger gauges are counted from the Delivery rows when Prometheus scrapes: totals by state,
  and per digest by state for digests not yet finished (index ix_deliveries_claim).
- Send latency is a histogram written by the workers in prometheus_client's multiprocess mode:
  one small mmap file per worker process in PROMETHEUS_MULTIPROC_DIR (default
  <instance>/prometheus), summed by the web process at scrape time. One observation per
  SMTP group (SEND_GROUP_SIZE messages), never per message, and no network or database call.
  prometheus_client picks multiprocess mode from that variable when it is first imported and
  reads the folder from it for every file it opens: there is no other way to give it. So the
  process entry points (newsletter/wsgi.py, worker/celery_app.py) set it, before anything
  imports prometheus_client; create_app only reads it. A process started another way (tests,
  `flask run` with tasks run inline) keeps its samples in memory and serves them itself.

The page itself, and who may read it, is newsletter/api/metrics.py.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from flask import Flask

from newsletter.models import Delivery, DeliveryState, Digest, DigestStatus, db

log = logging.getLogger(__name__)
ENV = "PROMETHEUS_MULTIPROC_DIR"
# Seconds for a group of ~20 pipelined messages: from a few ms on loopback to a slow relay.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UNFINISHED = (DigestStatus.PLANNED, DigestStatus.SENDING, DigestStatus.PAUSED)


def samples_dir(instance_path: str | os.PathLike[str]) -> str:
    """Where worker processes write their samples and /metrics reads them."""
    return os.environ.get(ENV) or os.path.join(instance_path, "prometheus")


def enter_multiprocess_mode(instance_path: str | os.PathLike[str]) -> None:
    """For process entry points only, before prometheus_client is imported: the variable is
    how prometheus_client learns the folder, and forked children (gunicorn, Celery) inherit it.
    """
    if "prometheus_client" in sys.modules and ENV not in os.environ:
        log.warning(
            "metrics: prometheus_client imported before %s was set; samples stay in memory", ENV
        )
    os.environ.setdefault(ENV, samples_dir(instance_path))


def configure(app: Flask) -> None:
    """The folder the workers write to (web and worker agree through samples_dir)."""
    path = samples_dir(app.instance_path)
    os.makedirs(path, exist_ok=True)
    app.extensions["metrics_samples_dir"] = path


class _Instruments:
    def __init__(self) -> None:
        # Not at the top: see _instruments.
        from prometheus_client import Counter, Histogram, values

        # Chosen by prometheus_client at import, from the environment (enter_multiprocess_mode).
        self.in_files = bool(getattr(values.ValueClass, "_multiprocess", False))
        self.send_seconds = Histogram(
            "newsletter_delivery_send_seconds",
            "Seconds from handing a group of messages to the SMTP relay to its last reply",
            buckets=BUCKETS,
            registry=None,
        )
        self.handed_over = Counter(
            "newsletter_delivery_handed_over_messages",
            "Messages handed to the SMTP relay (send_seconds_sum / this = seconds per message)",
            registry=None,
        )


@functools.cache
def _instruments() -> _Instruments:
    # Built on first use, not at import: create_app imports this module, and the entry points
    # must set PROMETHEUS_MULTIPROC_DIR before prometheus_client is imported.
    return _Instruments()


def observe_send(seconds: float, messages: int) -> None:
    """One SMTP group sent: its wall time and its size. Cheap (an mmap write), never raises."""
    try:
        instruments = _instruments()
        instruments.send_seconds.observe(seconds)
        instruments.handed_over.inc(messages)
    except OSError:  # a full or missing samples directory must not stop a send
        pass


class SendCollector:
    """Send latency: the sample files of every process in the folder, plus this process's own
    samples when it keeps them in memory (it was not started by an entry point)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def collect(self) -> Iterator[Any]:
        # At scrape time only: the entry points set the folder before the first import.
        from prometheus_client.multiprocess import MultiProcessCollector

        families = {}
        if os.path.isdir(self.path):
            families = {f.name: f for f in MultiProcessCollector(None, path=self.path).collect()}
        if _instruments.cache_info().currsize and not _instruments().in_files:
            for metric in (_instruments().send_seconds, _instruments().handed_over):
                for family in metric.collect():
                    _add(families, family)
        yield from families.values()


def _add(families: dict[str, Any], family: Any) -> None:
    """Sum this process's samples into the files' (same names, same labels)."""
    known = families.setdefault(family.name, family)
    if known is family:
        return
    own = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in family.samples}
    known.samples = [
        s._replace(value=s.value + own.get((s.name, tuple(sorted(s.labels.items()))), 0.0))
        for s in known.samples
    ]


class LedgerCollector:
    """Gauges counted from the rows at scrape time (no counter to keep in step)."""

    def collect(self) -> Iterator[Any]:
        # At scrape time only, as above.
        from prometheus_client.core import GaugeMetricFamily

        d = Delivery.__table__
        totals = GaugeMetricFamily(
            "newsletter_deliveries", "Delivery rows by state, all digests", labels=["state"]
        )
        counts = {state.value: 0 for state in DeliveryState}
        for state, count in db.session.execute(
            sa.select(d.c.state, sa.func.count()).group_by(d.c.state)
        ):
            counts[_value(state)] = int(count)
        for state, count in counts.items():
            totals.add_metric([state], count)
        per_digest = GaugeMetricFamily(
            "newsletter_digest_deliveries",
            "Delivery rows by state of each digest not yet finished",
            labels=["digest", "state"],
        )
        unfinished = sa.select(Digest.id).where(Digest.status.in_(UNFINISHED))
        for digest_id, state, count in db.session.execute(
            sa.select(d.c.digest_id, d.c.state, sa.func.count())
            .where(d.c.digest_id.in_(unfinished))
            .group_by(d.c.digest_id, d.c.state)
            .order_by(d.c.digest_id)
        ):
            per_digest.add_metric([str(digest_id), _value(state)], int(count))
        digests = GaugeMetricFamily("newsletter_digests", "Digests by status", labels=["status"])
        by_status = {status.value: 0 for status in DigestStatus}
        for status, count in db.session.execute(
            sa.select(Digest.status, sa.func.count()).group_by(Digest.status)
        ):
            by_status[_value(status)] = int(count)
        for name, count in by_status.items():
            digests.add_metric([name], count)
        db.session.rollback()
        yield totals
        yield per_digest
        yield digests


def _value(state: Any) -> str:
    return str(getattr(state, "value", state))
