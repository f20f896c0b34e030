"""Click references: the signed, compact name of one article link in one edition's letter.

A reference is `{digest}.{article}.{section}.{signature}`: the edition, the article and the
section of the letter the link sits in (a region's slug, or TOP for the pinned story). It is
the same for every reader of that section: it names no one. The signature (HMAC, a salt of its
own, SECRET_KEY and the old keys still accepted) is what makes a forged or edited reference
a 404.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, Signer

SALT = "click-ref-v1"
# The pinned article, above the region sections. No region's slug is "top".
TOP = "top"
# What a link carries besides its reference: when its message was made (see counting.py).
MINTED_PARAM = "t"
_PAYLOAD = re.compile(r"(\d{1,12})\.(\d{1,12})\.([a-z0-9-]{1,40})")


@dataclass(frozen=True)
class ClickRef:
    digest_id: int
    article_id: int
    section: str


def _signer() -> Signer:
    old = current_app.config.get("OLD_SECRET_KEYS") or ()
    # Signs with the last key, accepts any of them: a key rotation keeps old letters' links.
    return Signer([*old, current_app.config["SECRET_KEY"]], salt=SALT)


def sign_ref(ref: ClickRef) -> str:
    payload = f"{ref.digest_id}.{ref.article_id}.{ref.section}"
    if not _PAYLOAD.fullmatch(payload):
        raise ValueError(f"not a click reference: {payload!r}")
    return _signer().sign(payload).decode("ascii")


def read_ref(token: str) -> ClickRef | None:
    """The reference a link names; None when forged, edited or malformed."""
    try:
        payload = _signer().unsign(token).decode("ascii")
    except (BadSignature, UnicodeError):
        return None
    found = _PAYLOAD.fullmatch(payload)
    if found is None:
        return None
    return ClickRef(int(found.group(1)), int(found.group(2)), found.group(3))


def click_url(ref: ClickRef, *, minted: str) -> str:
    """The link a letter carries for this article; `minted` goes in as given (a placeholder
    the composer fills per message, see digests/compose.py)."""
    base = current_app.config["BASE_URL"]
    return f"{base}/r/{sign_ref(ref)}?{MINTED_PARAM}={minted}"


def encode_minted(unix_seconds: int) -> str:
    """A message's mint time, in base 36: six characters until the year 2059."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    value, out = max(0, unix_seconds), ""
    while True:
        value, rest = divmod(value, 36)
        out = digits[rest] + out
        if value == 0:
            return out


def decode_minted(raw: str | None) -> int | None:
    """The mint time a link carries; None when absent or unreadable."""
    if raw is None or not re.fullmatch(r"[0-9a-z]{1,8}", raw):
        return None
    return int(raw, 36)
