"""WSGI entry point: `gunicorn newsletter.wsgi:app`."""

from newsletter.app import create_app_or_exit
from newsletter.delivery import metrics

app = create_app_or_exit()
# /metrics reads the workers' sample files; the variable is how prometheus_client finds them,
# so an entry point sets it, before prometheus_client is imported (create_app never imports it).
metrics.enter_multiprocess_mode(app.instance_path)
