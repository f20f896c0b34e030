"""/healthz answers 200 when the database and the broker answer, 503 naming what is down."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from newsletter.app import create_app
from tests.conftest import _overrides, free_port


def test_healthz_is_ok_when_database_and_broker_answer(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "broker": "ok", "problems": []}


def test_healthz_names_the_broker_when_it_is_down(
    migrated_urls: dict[str, str], backend: str, tmp_path: Any
) -> None:
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app(
        _overrides(migrated_urls[backend], REDIS_URL=dead_redis), instance_path=tmp_path
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["broker"] == "down"
    assert response.json["database"] == "ok"


@pytest.fixture
def app_without_database(tmp_path: Any) -> Flask:
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/none"
    overrides = _overrides(url, CHECK_DATABASE_AT_START=False)
    return create_app(overrides, instance_path=tmp_path)


def test_healthz_names_the_database_when_it_is_down(app_without_database: Flask) -> None:
    response = app_without_database.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "down"
    assert response.json["status"] == "down"
