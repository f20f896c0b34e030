"""The JSON API under /api/v1: one module per resource, all on this blueprint."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def load_routes() -> None:
    """Import the resource modules so their routes attach to `bp`."""
    from newsletter.api import articles, delivery, digests, subscriptions  # noqa: F401
