"""API routes: subscriptions."""

from newsletter.api import bp  # noqa: F401
