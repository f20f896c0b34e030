"""The console's Celery task: a thin shell over the readers' import from a CSV."""

from __future__ import annotations

from celery import shared_task

from newsletter.admin import reader_import_runs


@shared_task(
    name=reader_import_runs.TASK,
    time_limit=reader_import_runs.TASK_TIME_LIMIT,
    soft_time_limit=reader_import_runs.TASK_TIME_LIMIT - 60,
)
def import_readers(import_id: int) -> None:
    """An admin's CSV of readers: imported here, not in the web request."""
    reader_import_runs.run_import(import_id)
