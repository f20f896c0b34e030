"""The worker entry point of the kill tests: the real one, sending the composer double's
messages (`celery -A tests.delivery.worker_app:celery worker`)."""

from newsletter.delivery.tasks import use_composer
from tests.delivery.composer import BytesComposer
from worker.celery_app import celery, flask_app

use_composer(flask_app, BytesComposer.load)

__all__ = ["celery"]
