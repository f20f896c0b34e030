"""Celery bound to the Flask app (Flask's pattern): its settings and every stage's tasks.

Each stage keeps its tasks beside it (`newsletter/<stage>/tasks.py`, `shared_task`); they are
imported here, above every stage, so that a stage asks for a task by name (jobs.py) and never
imports the module that defines it. The worker's entry point is `worker/celery_app.py`.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import Any

from celery import Celery, Task
from celery.signals import worker_process_init
from flask import Flask

# Imported for their tasks: `shared_task` registers each one with the app created below.
from newsletter.admin import tasks as admin_tasks
from newsletter.delivery import tasks as delivery_tasks
from newsletter.digests import tasks as digests_tasks
from newsletter.ingest import tasks as ingest_tasks
from newsletter.models import db
from newsletter.subscriptions import tasks as subscriptions_tasks

TASK_MODULES = (admin_tasks, delivery_tasks, digests_tasks, ingest_tasks, subscriptions_tasks)

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
    celery.set_default()
    app.extensions["celery"] = celery
    if not app.config["REDIS_URL"] and not celery.conf.task_always_eager:
        _declare_embedded_queue(celery, Path(app.instance_path))
    worker_process_init.connect(lambda **_: _fresh_connections(app), weak=False)
    delivery_tasks.connect_worker_signals(app)
    return celery


def _declare_embedded_queue(celery: Celery, instance: Path) -> None:
    """Make the SQLite broker's tables and queue row now, one process at a time.

    kombu makes them on first use, under a lock of its own process only: a web process
    publishing and a worker polling for the first time could both insert the queue's row, and
    the loser's IntegrityError lost a confirmation email or stopped the worker's polling. A
    file lock serialises the declaration across processes; once the row exists, kombu finds it.
    """
    instance.mkdir(parents=True, exist_ok=True)
    with (instance / "broker.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with celery.connection_for_write() as connection:
            connection.default_channel.queue_declare(queue=celery.conf.task_default_queue)


def _fresh_connections(app: Flask) -> None:
    """A forked worker process must not share its parent's database connections."""
    with app.app_context():
        db.engine.dispose(close=False)
