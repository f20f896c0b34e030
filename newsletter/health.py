"""/healthz: is the service able to work? The database and the broker must answer."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from celery import Celery
from flask import Blueprint, current_app, jsonify

from newsletter.extensions import csrf, limiter
from newsletter.models import db

bp = Blueprint("health", __name__)


def database_ok() -> str | None:
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        db.session.rollback()
        return f"database: {type(exc).__name__}"
    return None


def broker_ok() -> str | None:
    celery: Celery = current_app.extensions["celery"]
    try:
        with celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # kombu raises many types; any of them means "down"
        return f"broker: {type(exc).__name__}"
    return None


@bp.get("/healthz")
@csrf.exempt
@limiter.exempt
def healthz() -> Any:
    problems = [p for p in (database_ok(), broker_ok()) if p]
    body = {
        "status": "down" if problems else "ok",
        "database": "down" if any(p.startswith("database") for p in problems) else "ok",
        "broker": "down" if any(p.startswith("broker") for p in problems) else "ok",
        "problems": problems,
    }
    return jsonify(body), 503 if problems else 200
