"""The editors' page import leaves the web request: a task on the real (embedded) broker does it."""

from __future__ import annotations

from typing import Any

import pytest
from celery import Celery
from flask import Flask
from flask.testing import FlaskClient

from newsletter.ingest.page import run_import
from newsletter.models import Article, ImportState, PageImport, db
from tests.ingest.conftest import FIXTURES, LOCAL_FETCHES
from tests.ingest.feedserver import FeedServer, Reply
from tests.ingest.test_admin_articles import _token
from tests.support.editors import log_in_editor

PAGE = FIXTURES / "article-page.html"


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    # Tasks go to the embedded broker (a SQLite file of this test's own) and wait there.
    return {**LOCAL_FETCHES, "CELERY_ALWAYS_EAGER": False, "REDIS_URL": None}


def _queued_tasks(app: Flask) -> list[tuple[str, list[Any]]]:
    """Take every message off the broker's default queue: (task name, arguments)."""
    celery: Celery = app.extensions["celery"]
    taken = []
    with celery.connection_for_read() as connection:
        queue = connection.SimpleQueue("celery")
        while queue.qsize():
            message = queue.get(block=False)
            message.ack()
            taken.append((message.headers["task"], message.payload[0]))
        queue.close()
    return taken


def test_the_import_answers_before_any_fetch_and_the_worker_task_does_it(
    app: Flask, client: FlaskClient, feed_server: FeedServer
) -> None:
    feed_server.routes["/page/"] = Reply(
        body=PAGE.read_bytes(), headers={"Content-Type": "text/html"}
    )
    editor = log_in_editor(client)
    token = _token(editor.get("/admin/articles").get_data(as_text=True))

    response = editor.post(
        "/admin/articles/import", data={"csrf_token": token, "url": feed_server.url("/page/")}
    )

    assert response.status_code == 303
    status = response.headers["Location"]
    assert feed_server.requests == []
    assert "Import en attente" in editor.get(status).get_data(as_text=True)
    [(task, args)] = _queued_tasks(app)
    row = db.session.execute(db.select(PageImport)).scalar_one()
    assert (task, args) == ("ingest.import_page", [row.id])

    # What the worker runs, twice as a redelivered task would: the second run changes nothing.
    app.extensions["celery"].tasks[task].apply(args)
    first = _state(row.id)
    app.extensions["celery"].tasks[task].apply(args)

    assert _state(row.id) == first
    assert first[0] is ImportState.DONE and first[1] == "created"
    assert len(feed_server.requests) == 1
    assert len(db.session.execute(db.select(Article)).scalars().all()) == 1
    shown = editor.get(status).get_data(as_text=True)
    assert "Article importé :" in shown and "Pourparlers russo-américains en janvier" in shown


def test_an_import_deleted_before_its_task_runs_is_skipped(app: Flask) -> None:
    assert run_import(12345) is None
    assert db.session.execute(db.select(Article)).first() is None


def _state(import_id: int) -> tuple[ImportState, str | None, object]:
    db.session.expire_all()
    row = db.session.get(PageImport, import_id)
    assert row is not None
    return row.state, row.outcome, row.finished_at
