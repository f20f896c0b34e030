"""Fixtures: an app on each configured database, a real SMTP server, a clean slate per test.

SQLite always runs. PostgreSQL and Redis run when TEST_DATABASE_URL and TEST_REDIS_URL name
them. With TEST_SERVERS_REQUIRED=1 (CI's pass on real servers) both must be set and reachable,
or the run fails instead of skipping what needs them. In CI (CI=true) the browser tests fail
when Chromium is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from newsletter.app import create_app
from newsletter.delivery import process_stream
from newsletter.extensions import limiter
from newsletter.models import db
from tests.ingest.feedserver import FeedServer
from tests.support.smtp import SmtpSink

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
SERVERS_REQUIRED = os.environ.get("TEST_SERVERS_REQUIRED", "").lower() in {"1", "true", "yes"}
# With PostgreSQL named, database tests run there: SQLite is the run without servers' (make
# test as it is, CI's first pass), so CI covers each database once instead of SQLite twice.
# TEST_BOTH_DATABASES=1 runs them on both in one run.
BOTH_DATABASES = os.environ.get("TEST_BOTH_DATABASES", "").lower() in {"1", "true", "yes"}
BACKENDS = (["sqlite"] if not TEST_DATABASE_URL or BOTH_DATABASES else []) + (
    ["postgresql"] if TEST_DATABASE_URL else []
)
KEPT_TABLES = {"regions", "alembic_version"}


def pytest_configure(config: pytest.Config) -> None:
    if not SERVERS_REQUIRED:
        return
    if not (TEST_DATABASE_URL and TEST_REDIS_URL):
        raise pytest.UsageError(
            "TEST_SERVERS_REQUIRED=1 needs TEST_DATABASE_URL and TEST_REDIS_URL"
        )
    # One clear line now rather than a failure in every test that needs the server.
    try:
        engine = sa.create_engine(_psycopg(TEST_DATABASE_URL))
        with engine.connect():
            pass
        engine.dispose()
    except sa.exc.SQLAlchemyError as exc:
        raise pytest.UsageError(
            f"TEST_DATABASE_URL is unreachable: {str(exc).splitlines()[0]}"
        ) from None
    import redis

    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_timeout=5).ping()
    except redis.RedisError as exc:
        raise pytest.UsageError(f"TEST_REDIS_URL is unreachable: {exc}") from None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With both databases asked for, a browser test runs on PostgreSQL only.

    A browser test checks what a page does, not how a database stores it: the run without
    servers (make test as it is, CI's first pass) drives it on SQLite, the run with servers
    on PostgreSQL, so both databases see every browser test without each one twice per run
    (they are the slowest tests of the suite).
    """
    if BACKENDS != ["sqlite", "postgresql"]:
        return
    kept, dropped = [], []
    for item in items:
        on_sqlite = "[sqlite" in item.nodeid
        (dropped if on_sqlite and item.get_closest_marker("browser") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_report_header() -> list[str]:
    return [
        f"databases: {', '.join(BACKENDS)}",
        f"redis: {TEST_REDIS_URL or 'not configured (embedded broker, memory rate limits)'}",
    ]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say how many tests ran on PostgreSQL, so a log shows they ran and were not skipped."""
    counts: dict[str, int] = {}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            params = getattr(report, "nodeid", "").partition("[")[2]
            if "postgresql" in params:
                counts[outcome] = counts.get(outcome, 0) + 1
    if counts:
        figures = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
        terminalreporter.write_line(f"on PostgreSQL ({TEST_DATABASE_URL}): {figures}")
    if TEST_REDIS_URL:
        terminalreporter.write_line(f"Redis for broker and rate limits: {TEST_REDIS_URL}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def migrated_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Each backend migrated once per run from an empty database, by the real migrations.

    PostgreSQL gets a database of this run's own on the server TEST_DATABASE_URL names, so
    runs side by side never share tables; it is dropped at the end.
    """
    urls = {"sqlite": f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"}
    if TEST_DATABASE_URL:
        urls["postgresql"] = create_run_database(f"run{os.getpid()}")
    for backend, url in urls.items():
        app = create_app(_overrides(url), instance_path=tmp_path_factory.mktemp(backend))
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            db.engine.dispose()
    yield urls
    if TEST_DATABASE_URL:
        drop_run_database(urls["postgresql"])


def create_run_database(suffix: str) -> str:
    """A fresh database beside TEST_DATABASE_URL's; fails loudly if the server is unreachable."""
    server = sa.make_url(_psycopg(TEST_DATABASE_URL))
    name = f"{server.database}_{suffix}"
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def drop_run_database(url: str) -> None:
    run = sa.make_url(url)
    engine = sa.create_engine(
        sa.make_url(_psycopg(TEST_DATABASE_URL)), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{run.database}" WITH (FORCE)'))
    engine.dispose()


def _psycopg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _overrides(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "NEWSLETTER_ENV": "testing",
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret-key",
        "REDIS_URL": TEST_REDIS_URL or None,
        "CELERY_ALWAYS_EAGER": True,
        "WTF_CSRF_ENABLED": True,
        # No test mails anyone by accident: the default relay is a closed port.
        "SMTP_URL": f"smtp://127.0.0.1:{free_port()}",
        "BASE_URL": "http://newsletter.test",
        # Rate-limit counters on the shared Redis: a prefix per app, so no test sees another's.
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        **extra,
    }


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Override in a test module to change settings of the `app` fixture."""
    return {}


@pytest.fixture
def app(
    backend: str,
    migrated_urls: dict[str, str],
    tmp_path: Path,
    app_overrides: dict[str, Any],
) -> Iterator[Flask]:
    app = create_app(_overrides(migrated_urls[backend], **app_overrides), instance_path=tmp_path)
    # Flask-Limiter is one object per process and keeps the first app's key prefix; tests make
    # many apps, so each gets its own counters on the shared Redis.
    limiter._key_prefix = app.config["RATELIMIT_KEY_PREFIX"]
    with app.app_context():
        yield app
        process_stream.close(app)  # the SMTP connection of a test that sent inline
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def _empty_tables() -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEPT_TABLES]
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(t.name for t in tables)
            connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Headless, and nothing that would reach out to the network on its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright; missing, it skips here and fails in CI."""
    if not shutil.which(CHROMIUM):
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is required in CI (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A local HTTP server answering feed requests as each test tells it (tests/ingest)."""
    server = FeedServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) on a free port that keeps every message it accepts."""
    sink = SmtpSink(port=free_port())
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def live_port() -> int:
    """The port the live server will take: BASE_URL (links in emails) must name it."""
    return free_port()


@pytest.fixture
def live_url(app: Flask, live_port: int) -> Iterator[str]:
    """The app served over real HTTP on loopback, for a browser."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", live_port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{live_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def console() -> list[str]:
    """What the page wrote to the browser's console (CSP violations land here)."""
    return []


# Playwright's own default, written down: a step waits this long before the test fails.
PAGE_TIMEOUT_MS = 30_000


@pytest.fixture
def new_page(
    request: pytest.FixtureRequest, browser: Any, console: list[str]
) -> Iterator[Callable[..., Any]]:
    """Opens a page in a context of its own: French, only the app's server reachable, console
    kept in `console`; closed after the test.

    Keyword arguments are Playwright's context options (bypass_csp=True to inject axe-core, a
    phone's viewport...); origin is the one server the page may reach, the live app's by
    default (the digest's remote images are not fetched from the internet).
    """
    contexts: list[Any] = []

    def open_page(*, origin: str | None = None, **context_options: Any) -> Any:
        allowed = origin or request.getfixturevalue("live_url")
        context = browser.new_context(**{"locale": "fr-FR", **context_options})
        contexts.append(context)
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        context.route(
            "**/*",
            lambda route: (
                route.continue_() if route.request.url.startswith(allowed) else route.abort()
            ),
        )
        page = context.new_page()
        page.on("console", lambda message: console.append(message.text))
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page_options() -> dict[str, Any]:
    """Override in a test module to open the `page` fixture with other context options."""
    return {}


@pytest.fixture
def page(live_url: str, new_page: Callable[..., Any], page_options: dict[str, Any]) -> Any:
    """A page of the live app in Chromium (see new_page)."""
    return new_page(**page_options)
