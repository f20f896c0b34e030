"""Address checks shared by the form, the API and the importer: strict, normalized, keyed."""

from __future__ import annotations

import hashlib
import hmac

from email_validator import EmailNotValidError, validate_email
from flask import current_app

MAX_EMAIL_LENGTH = 254
CONTROL_CHARACTERS = frozenset("\r\n\x00")


class AddressError(ValueError):
    """The address cannot be used; the message says why, in English (for logs and reports)."""


def has_control_characters(value: str) -> bool:
    """CR, LF or NUL: header injection, never legitimate in any field we take."""
    return any(char in CONTROL_CHARACTERS for char in value)


def normalize_address(raw: str, *, check_deliverability: bool = False) -> str:
    """The stored form of an address: IDNA-checked, Unicode-normalized, lower-cased."""
    if has_control_characters(raw):
        raise AddressError("line break or NUL in the address")
    candidate = raw.strip()
    if not candidate or len(candidate) > MAX_EMAIL_LENGTH:
        raise AddressError("malformed address")
    try:
        info = validate_email(candidate, check_deliverability=check_deliverability)
    except EmailNotValidError as exc:
        raise AddressError(f"malformed address: {exc}") from None
    # Mailbox names are case-sensitive in theory, never in practice: one reader, one row.
    return f"{info.local_part.lower()}@{info.domain.lower()}"


def smtp_address(email: str) -> str:
    """The address as SMTP sees it: an internationalized domain in its ASCII (IDNA) form."""
    local, _, domain = email.rpartition("@")
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return email


def email_hmac(email: str) -> str:
    """The suppression key: an HMAC with a server key, so the list cannot be reversed."""
    key = hashlib.sha256(b"suppression-v1:" + current_app.config["SECRET_KEY"].encode()).digest()
    return hmac.new(key, email.encode(), hashlib.sha256).hexdigest()
