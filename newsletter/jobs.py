"""Celery bound to the Flask app, and jobs that leave only after the commit that decided them."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from celery import Celery, Task
from celery.signals import worker_process_init
from flask import Flask, current_app
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# Long enough for the longest task (a drain task stops after about a minute of work).
VISIBILITY_TIMEOUT = 3600


def celery_config(app: Flask) -> dict[str, Any]:
    redis_url = app.config["REDIS_URL"]
    if redis_url:
        broker = redis_url
        # Redis re-delivers an unacked task after this long: keep it well above any task.
        transport_options = {"visibility_timeout": VISIBILITY_TIMEOUT}
    else:
        # Embedded default: kombu's SQLAlchemy transport on a SQLite file, no server to run.
        broker = f"sqla+sqlite:///{Path(app.instance_path) / 'broker.sqlite'}"
        transport_options = {}
    return {
        "broker_url": broker,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": transport_options,
        "task_ignore_result": True,
        # Tasks are idempotent: redeliver when a worker dies, even by SIGKILL.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "task_time_limit": 300,
        "task_soft_time_limit": 240,
        "timezone": app.config["TIMEZONE"],
        "enable_utc": True,
        "beat_schedule_filename": str(Path(app.instance_path) / "celerybeat-schedule"),
        "task_always_eager": app.config.get("CELERY_ALWAYS_EAGER", False),
        "task_eager_propagates": True,
        "worker_hijack_root_logger": False,
    }


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: object, **kwargs: object) -> object:
            # A fresh app context: a task gets its own database session.
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask)
    celery.conf.update(celery_config(app))
    from worker.schedule import beat_schedule

    celery.conf.beat_schedule = beat_schedule(app.config)
    celery.set_default()
    app.extensions["celery"] = celery
    worker_process_init.connect(lambda **_: _fresh_connections(app), weak=False)
    importlib.import_module("worker.tasks").connect_worker_signals(app)
    return celery


def _fresh_connections(app: Flask) -> None:
    """A forked worker process must not share its parent's database connections."""
    from newsletter.models import db

    with app.app_context():
        db.engine.dispose(close=False)


def enqueue(task_name: str, *args: Any, **kwargs: Any) -> None:
    """Send a task once the current transaction commits; nothing is sent if it rolls back."""
    from newsletter.models import db

    db.session.info.setdefault("jobs", []).append((task_name, args, kwargs))


def send_now(task_name: str, *args: Any, **kwargs: Any) -> None:
    celery: Celery = current_app.extensions["celery"]
    celery.tasks[task_name].apply_async(args, kwargs)


@sa.event.listens_for(Session, "after_commit")
def _send_jobs_after_commit(session: Session) -> None:
    jobs = session.info.pop("jobs", [])
    for task_name, args, kwargs in jobs:
        try:
            send_now(task_name, *args, **kwargs)
        except Exception:
            if current_app.extensions["celery"].conf.task_always_eager:
                raise  # in tests the task ran inline: its error is the test's to see
            # The decision is committed; the periodic sweeps re-send what a broker outage lost.
            log.exception("could not enqueue %s%r; the periodic sweep will retry", task_name, args)


@sa.event.listens_for(Session, "after_soft_rollback")
def _drop_jobs_after_rollback(session: Session, previous_transaction: Any) -> None:
    session.info.pop("jobs", None)
