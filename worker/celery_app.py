"""Entry point: `celery -A worker.celery_app:celery worker|beat`."""

from newsletter import create_app_or_exit

flask_app = create_app_or_exit(web=False)  # tasks only: no pages, no API
celery = flask_app.extensions["celery"]
