"""Per-address mail cap, shared by every entry point (form, API, resend, erasure request).

The cap is silent: over it, the caller answers exactly as it would have and sends nothing.
A 429 would let anyone lock a reader out of subscribing, and would tell them the address
was submitted recently.
"""

from __future__ import annotations

from flask import current_app
from limits import parse_many

from newsletter.extensions import limiter
from newsletter.subscriptions.addresses import email_hmac


def mailbox(email: str) -> str:
    """The mailbox an address reaches, for counting only: case-folded, `+tag` removed.

    `victim+1@example.org`, `Victim+2@example.org` and `victim@example.org` land in one
    mailbox, so they share one cap. The address stored and mailed stays as the reader typed it.
    """
    local, _, domain = email.rpartition("@")
    return f"{local.split('+', 1)[0].casefold() or local.casefold()}@{domain.casefold()}"


def take_mail_slot(email: str) -> bool:
    """Count one confirmation-type email for this mailbox; False when over ADDRESS_MAIL_LIMIT.

    Keyed by the mailbox's HMAC, so the limiter's storage holds no address in clear. Counted
    whatever the address's state, so the cap reveals nothing about the reader.
    """
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    # The same prefix as Flask-Limiter's own keys: installations sharing a Redis stay apart.
    key = (
        current_app.config.get("RATELIMIT_KEY_PREFIX") or "",
        "mail-cap",
        email_hmac(mailbox(email)),
    )
    items = parse_many(current_app.config["ADDRESS_MAIL_LIMIT"])
    strategy = limiter.limiter
    # Test all, then hit all: a refused request consumes nothing. The hit itself is atomic in
    # the storage, so two processes racing for the last slot cannot both get it.
    if not all(strategy.test(item, *key) for item in items):
        return False
    return all([strategy.hit(item, *key) for item in items])
