"""create_app(): the app put together from every part; it reads like its table of contents."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

import newsletter.admin.archive_toggle  # noqa: F401 - its routes attach to admin_bp
import newsletter.admin.articles  # noqa: F401 - its routes attach to admin_bp
import newsletter.admin.controls  # noqa: F401 - its routes attach to admin_bp
import newsletter.admin.dashboard  # noqa: F401 - its routes attach to admin_bp
import newsletter.admin.digests  # noqa: F401 - its routes attach to admin_bp
import newsletter.admin.editions  # noqa: F401 - its routes attach to admin_bp
import newsletter.admin.reader_imports  # noqa: F401 - its routes attach to admin_bp
import newsletter.admin.readers  # noqa: F401 - its routes attach to admin_bp
import newsletter.admin.team  # noqa: F401 - its routes attach to admin_bp
import newsletter.api.articles  # noqa: F401 - the API routes attach to api.bp
import newsletter.api.delivery  # noqa: F401
import newsletter.api.digests  # noqa: F401
import newsletter.api.subscriptions  # noqa: F401
import newsletter.subscriptions.links  # noqa: F401 - its routes attach to subscriptions_bp
import newsletter.subscriptions.views  # noqa: F401 - its routes attach to subscriptions_bp
from newsletter import api
from newsletter.admin.views import bp as admin_bp
from newsletter.api.metrics import bp as metrics_bp
from newsletter.archive.views import bp as archive_bp
from newsletter.celery_init import celery_init_app
from newsletter.clicks.views import bp as clicks_bp
from newsletter.commands import register_commands
from newsletter.config import ConfigError, load_config
from newsletter.delivery import metrics
from newsletter.delivery.webhooks import bp as webhooks_bp
from newsletter.devmail.views import bp as devmail_bp
from newsletter.digests.views import bp as digests_bp
from newsletter.extensions import csrf, init_extensions
from newsletter.health import bp as health_bp
from newsletter.models import db
from newsletter.subscriptions.blueprint import bp as subscriptions_bp
from newsletter.web import client, security
from newsletter.web.requests import guard_requests

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


def create_app(
    overrides: Mapping[str, Any] | None = None,
    *,
    instance_path: str | Path | None = None,
    web: bool = True,
) -> Flask:
    """The app. `web=False` (Celery workers and beat) leaves out the pages and the API: a
    worker renders emails from BASE_URL and never routes a request."""
    app = Flask(
        __name__,
        template_folder=str(TEMPLATES_DIR),
        instance_path=str(instance_path or os.environ.get("INSTANCE_PATH") or _default_instance()),
    )
    app.config.from_mapping(_flask_settings(app, overrides))
    # The client is the TCP peer unless TRUSTED_PROXIES names the proxy in front of us.
    app.wsgi_app = client.wrap(app.wsgi_app, app.config["TRUSTED_PROXIES"])  # type: ignore[method-assign]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)

    init_extensions(app)
    if app.config["CHECK_DATABASE_AT_START"]:
        _check_database(app)

    celery_init_app(app)
    metrics.configure(app)
    if web:
        _register_blueprints(app)
        security.init_app(app)
    register_commands(app)
    return app


def create_app_or_exit(*, web: bool = True) -> Flask:
    """For entry points (gunicorn, celery): a bad setting is one clear line, not a traceback."""
    try:
        return create_app(web=web)
    except ConfigError as exc:
        print(f"newsletter: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _default_instance() -> Path:
    return Path(__file__).resolve().parent.parent / "instance"


def _flask_settings(app: Flask, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    config = load_config(
        environ=os.environ, instance_path=Path(app.instance_path), overrides=overrides
    )
    production = config["NEWSLETTER_ENV"] == "production"
    config.update(
        SQLALCHEMY_DATABASE_URI=config["DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        # Counters every web process shares: Redis, or a SQLite file beside the database.
        RATELIMIT_STORAGE_URI=config["REDIS_URL"]
        or f"newsletter+sqlite:///{Path(app.instance_path) / 'ratelimits.sqlite'}",
        RATELIMIT_HEADERS_ENABLED=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=production,
        BABEL_DEFAULT_LOCALE="fr",
        TESTING=config["NEWSLETTER_ENV"] == "testing" or config.get("TESTING", False),
    )
    return config


def _check_database(app: Flask) -> None:
    with app.app_context():
        try:
            with db.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise ConfigError("DATABASE_URL", f"cannot connect to the database: {reason}") from None


def _register_blueprints(app: Flask) -> None:
    # First: body and JSON limits, and the bounded <int:...> the routes below are made with.
    guard_requests(app)
    app.register_blueprint(health_bp)
    app.register_blueprint(metrics_bp)
    app.register_blueprint(subscriptions_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(digests_bp)
    app.register_blueprint(archive_bp)
    app.register_blueprint(clicks_bp)
    app.register_blueprint(webhooks_bp)
    # The API authenticates by bearer token, not by cookie: CSRF does not apply to it.
    csrf.exempt(api.bp)
    app.register_blueprint(api.bp)
    if app.config["NEWSLETTER_ENV"] == "development":
        app.register_blueprint(devmail_bp)
