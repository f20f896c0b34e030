"""API routes: articles."""

from newsletter.api import bp  # noqa: F401
