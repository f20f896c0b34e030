"""The Flask extensions, created unbound; create_app() binds them."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Flask, g, request
from flask_babel import Babel, get_locale
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

from newsletter.models import db
from newsletter.web import limit_storage  # noqa: F401 - registers the newsletter+sqlite scheme

LANGUAGES = ("fr", "en")
MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")

migrate = Migrate(directory=MIGRATIONS_DIR)
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
babel = Babel()


def select_locale() -> str:
    """The reader's explicit choice (?lang= or g.language set by a view), else the browser's."""
    chosen = getattr(g, "language", None) or request.args.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default="fr") or "fr"


def init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    app.jinja_env.globals["get_locale"] = get_locale


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:  # type: ignore[no-untyped-def]
    """WAL so the web and the workers read while one writes; wait instead of failing on a lock."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


sa.event.listen(sa.engine.Engine, "connect", _sqlite_pragmas)
