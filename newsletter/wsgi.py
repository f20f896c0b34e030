"""WSGI entry point: `gunicorn newsletter.wsgi:app`."""

from newsletter import create_app_or_exit

app = create_app_or_exit()
