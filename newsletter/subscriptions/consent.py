"""The consent sentence readers see, and its version: a hash of its exact wording."""

from __future__ import annotations

import hashlib

from flask_babel import force_locale, gettext


def consent_text() -> str:
    return gettext(
        "By subscribing, I agree to receive La Revue Internationale's newsletter by email "
        "for the regions I chose. I can unsubscribe at any time with the link in every email."
    )


def form_version(language: str) -> str:
    """Stored with each consent event: which wording the reader agreed to."""
    with force_locale(language):
        text = consent_text()
    return hashlib.sha256(f"{language}:{text}".encode()).hexdigest()[:16]
