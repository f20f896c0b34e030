"""The Flask extensions, created unbound; create_app() binds them."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel, get_locale, refresh
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

from newsletter.models import db
from newsletter.web import limit_storage  # noqa: F401 - registers the newsletter+sqlite scheme

LANGUAGES = ("fr", "en")
# Where an editor's choice of console language is kept: the Flask session, no database row.
CONSOLE_LANGUAGE_KEY = "console_language"
MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")

migrate = Migrate(directory=MIGRATIONS_DIR)
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
babel = Babel()


def select_locale() -> str:
    """The console's language for /admin pages, else the reader's (reader_locale)."""
    if not has_request_context():
        return "fr"  # the command line and the workers: French, the newsroom's language
    if request.blueprint == "admin":
        return console_locale()
    return reader_locale()


def reader_locale() -> str:
    """The reader's explicit choice (?lang= or g.language set by a view), else the browser's."""
    chosen = getattr(g, "language", None) or request.args.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default="fr") or "fr"


def console_locale() -> str:
    """The editor's choice from the console's menu, else the browser's; French by default."""
    chosen = session.get(CONSOLE_LANGUAGE_KEY)
    if chosen in LANGUAGES:
        return str(chosen)
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
    # Flask-Babel caches the locale on `g`, which outlives a request when an app context was
    # already pushed (tests, the CLI): each request chooses its language afresh.
    app.before_request(refresh)


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
