"""API routes: digests."""

from newsletter.api import bp  # noqa: F401
