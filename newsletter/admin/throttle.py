"""Failed editors' logins counted per account, whatever the client's IP.

The per-IP limit on the login form does not stop guessing one editor's password from many
addresses. EDITOR_LOGIN_ACCOUNT_LIMIT (default 5 failures per 15 minutes) counts failures per
normalized address in Flask-Limiter's storage (Redis when REDIS_URL is set), so every web
process sees the same count. Over it, the account's password login is refused for the rest of
the window, even with the right password, and the answer is the same whether or not the
address is an editor's. A successful login does not reset the count: the window simply runs
out, and an attacker cannot clear it by interleaving an accomplice's logins.
"""

from __future__ import annotations

import hmac

from flask import current_app
from limits import RateLimitItem, parse_many

from newsletter.admin.accounts import normalize_editor_email
from newsletter.extensions import limiter


def account_locked(email: str) -> bool:
    """True when this account has used up its failed logins for now."""
    if not _enabled():
        return False
    key = _key(email)
    return not all(limiter.limiter.test(item, *key) for item in _items())


def count_failure(email: str) -> None:
    if _enabled():
        key = _key(email)
        for item in _items():
            limiter.limiter.hit(item, *key)


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def _items() -> list[RateLimitItem]:
    return parse_many(current_app.config["EDITOR_LOGIN_ACCOUNT_LIMIT"])


def _key(email: str) -> tuple[str, ...]:
    try:
        account = normalize_editor_email(email)
    except ValueError:
        account = email.strip().lower()  # still counted: a malformed address is no way around
    # Keyed with a server secret: the limiter's storage holds no address in clear.
    digest = hmac.new(
        current_app.config["SECRET_KEY"].encode(), b"editor-login:" + account.encode(), "sha256"
    ).hexdigest()
    # The same prefix as Flask-Limiter's own keys: installations sharing a Redis stay apart.
    return (current_app.config.get("RATELIMIT_KEY_PREFIX") or "", "editor-login", digest)
