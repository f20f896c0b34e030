"""Per-address mail cap, shared by every entry point (form, API, resend, import)."""

from __future__ import annotations

from flask import current_app
from limits import parse_many

from newsletter.extensions import limiter
from newsletter.subscriptions.addresses import email_hmac


def take_mail_slot(email: str) -> bool:
    """Count one confirmation-type email for this address; False when over ADDRESS_MAIL_LIMIT.

    Keyed by the address's HMAC, so the limiter's storage holds no address in clear. Counted
    whatever the address's state, so hitting the cap reveals nothing about the reader.
    """
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    # The same prefix as Flask-Limiter's own keys: installations sharing a Redis stay apart.
    key = (current_app.config.get("RATELIMIT_KEY_PREFIX") or "", "mail-cap", email_hmac(email))
    items = parse_many(current_app.config["ADDRESS_MAIL_LIMIT"])
    strategy = limiter.limiter
    # Test all, then hit all: a refused request consumes nothing.
    if not all(strategy.test(item, *key) for item in items):
        return False
    return all([strategy.hit(item, *key) for item in items])
