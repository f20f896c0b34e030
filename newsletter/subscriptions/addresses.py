"""Address checks shared by the form, the API and the importer: strict, normalized, keyed."""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_app_context

# RFC 5321: a path holds at most 256 octets with its brackets (254 for the address), and a
# local part at most 64 octets.
MAX_EMAIL_LENGTH = 254
MAX_LOCAL_PART_OCTETS = 64


class AddressError(ValueError):
    """The address cannot be used; the message says why, in English (for logs and reports)."""


class NonAsciiLocalPart(AddressError):
    """Letters outside ASCII before the @: only a relay that speaks SMTPUTF8 can deliver it."""


def has_control_characters(value: str) -> bool:
    """CR, LF or NUL: header injection, never legitimate in any field we take."""
    return "\r" in value or "\n" in value or "\x00" in value


def normalize_address(
    raw: str, *, check_deliverability: bool = False, smtputf8: bool | None = None
) -> str:
    """The stored form of an address: IDNA-checked, Unicode-normalized, lower-cased.

    smtputf8: whether the relay delivers to non-ASCII mailboxes (SMTP_UTF8; the app's setting
    when None). Without it such an address is refused here rather than failing at every send.
    """
    if has_control_characters(raw):
        raise AddressError("line break or NUL in the address")
    candidate = raw.strip()
    if not candidate or len(candidate.encode()) > MAX_EMAIL_LENGTH:
        raise AddressError("malformed address")
    local, _, domain = candidate.rpartition("@")
    if _PLAIN_LOCAL_PART.fullmatch(local):
        # Fast path (imports of 100,000 rows): a plain ASCII mailbox needs no more checks than
        # this; the domain, shared by many readers, is checked once by email-validator.
        normalized_domain = _checked_domain(domain, check_deliverability)
    else:
        if not local.isascii() and not _smtputf8(smtputf8):
            raise NonAsciiLocalPart("non-ASCII letters before the @ (the relay lacks SMTPUTF8)")
        try:
            info = validate_email(candidate, check_deliverability=check_deliverability)
        except EmailNotValidError as exc:
            raise AddressError(f"malformed address: {exc}") from None
        local, normalized_domain = info.local_part, info.domain
        if len(local.encode()) > MAX_LOCAL_PART_OCTETS:
            raise AddressError("malformed address: more than 64 octets before the @")
    # Mailbox names are case-sensitive in theory, never in practice: one reader, one row.
    return f"{local.lower()}@{normalized_domain.lower()}"


def _smtputf8(explicit: bool | None) -> bool:
    if explicit is not None:
        return explicit
    return has_app_context() and bool(current_app.config.get("SMTP_UTF8"))


# RFC 5322 dot-atom in ASCII, at most 64 characters: what email-validator accepts as is.
_PLAIN_LOCAL_PART = re.compile(
    r"(?=.{1,64}$)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
)


@lru_cache(maxsize=4096)
def _checked_domain(domain: str, check_deliverability: bool) -> str:
    try:
        info = validate_email(f"postmaster@{domain}", check_deliverability=check_deliverability)
    except EmailNotValidError as exc:
        raise AddressError(f"malformed address: {exc}") from None
    return str(info.domain)


def smtp_address(email: str) -> str:
    """The address as SMTP sees it: an internationalized domain in its ASCII (IDNA) form."""
    local, _, domain = email.rpartition("@")
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return email


def email_hmac(email: str) -> str:
    """The suppression key: an HMAC with a server key, so the list cannot be reversed."""
    return hmac.new(
        _suppression_key(
            current_app.config.get("SUPPRESSION_KEY") or current_app.config["SECRET_KEY"]
        ),
        email.encode(),
        "sha256",
    ).hexdigest()


@lru_cache(maxsize=4)
def _suppression_key(secret_key: str) -> bytes:
    # Derived, not the secret itself: the suppression list has its own key.
    return hashlib.sha256(b"suppression-v1:" + secret_key.encode()).digest()
