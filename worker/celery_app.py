"""Entry point: `celery -A worker.celery_app:celery worker|beat`."""

from newsletter.app import create_app_or_exit
from newsletter.delivery import metrics
from newsletter.delivery.stream import favour_the_smtp_thread
from newsletter.doctor.command import refuse_to_send
from worker.schedule import beat_schedule

flask_app = create_app_or_exit(web=False)  # tasks only: no pages, no API
# In production, a From/DKIM mismatch, an unusable DKIM key or an http BASE_URL: one line, exit.
refuse_to_send(flask_app.config)
# Send latency is written to files the web process sums at /metrics; the variable is how
# prometheus_client finds the folder, so it is set here, before prometheus_client is imported
# (create_app never imports it), and the forked pool processes inherit it.
metrics.enter_multiprocess_mode(flask_app.instance_path)
# The sender's SMTP thread gets the GIL back quickly (the reason is in delivery/stream.py):
# set once for the worker process, and the forked pool processes inherit it.
favour_the_smtp_thread()
celery = flask_app.extensions["celery"]
celery.conf.beat_schedule = beat_schedule(flask_app.config)
