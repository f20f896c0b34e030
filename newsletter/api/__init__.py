"""The JSON API under /api/v1: one module per resource, all on this blueprint (create_app
imports the resource modules, whose routes attach to it)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
