"""Jobs that leave only after the commit that decided them.

A stage asks for a task by its Celery name (`jobs.enqueue("delivery.drain", digest_id)`); the
name is sent once the session commits, and forgotten if it rolls back. Nothing here imports a
task: the Celery app and its tasks are put together above every stage (celery_init.py).
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from celery import Celery
from flask import current_app
from sqlalchemy.orm import Session

from newsletter.models import db

log = logging.getLogger(__name__)


def enqueue(task_name: str, *args: Any, **kwargs: Any) -> None:
    """Send a task once the current transaction commits; nothing is sent if it rolls back."""
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
