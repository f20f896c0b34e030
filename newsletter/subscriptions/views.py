"""Public pages of the subscription flow."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("subscriptions", __name__)
