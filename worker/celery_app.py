"""Entry point: `celery -A worker.celery_app:celery worker|beat`."""

import sys

from newsletter import create_app_or_exit
from newsletter.delivery import metrics

flask_app = create_app_or_exit(web=False)  # tasks only: no pages, no API
# Send latency is written to files the web process sums at /metrics; the variable is how
# prometheus_client finds the folder, so it is set here, before prometheus_client is imported
# (create_app never imports it), and the forked pool processes inherit it.
metrics.enter_multiprocess_mode(flask_app.instance_path)
# The sender's SMTP thread must not wait 5 ms (Python's default switch interval) for the
# thread building the next group to let go of the GIL: that wait would be per message.
# Set once for the worker process; the forked pool processes inherit it.
sys.setswitchinterval(0.0005)
celery = flask_app.extensions["celery"]
