# One image for web, worker and beat; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    NEWSLETTER_ENV=production INSTANCE_PATH=/app/instance
WORKDIR /app

# The pinned runtime dependencies first (a layer that only changes with the lock), then the
# package itself without resolving anything again.
COPY requirements.lock ./
RUN pip install -r requirements.lock
COPY pyproject.toml README.md ./
COPY newsletter ./newsletter
COPY worker ./worker
COPY templates ./templates
COPY gunicorn.conf.py ./
RUN pip install --no-deps -e . && useradd --create-home --uid 1000 newsletter \
    && mkdir -p /app/instance/prometheus && chown -R newsletter /app/instance
USER newsletter

EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "4", "newsletter.wsgi:app"]
