"""Signed reader links: one salt per purpose, HMAC only (cheap enough to sign once per digest)."""

from __future__ import annotations

import functools
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode, int_to_bytes

# One list today; the id is in every token so a second list cannot reuse another's links.
LIST_ID = "ri"


class Purpose(StrEnum):
    CONFIRM = "confirm-v1"
    UNSUBSCRIBE = "unsub-v1"
    MANAGE = "manage-v1"
    ERASE = "erase-v1"


ERASE_MAX_AGE = 3600
# The data export hands over everything we hold: only from a manage link of the last day.
EXPORT_MAX_AGE = 86400


class InvalidToken(Exception):
    """Forged, damaged, for another purpose, or for another list."""


class ExpiredToken(Exception):
    """Genuine but too old; carries the reader's id so a new link can be offered."""

    def __init__(self, subscriber_id: int, nonce: str | None) -> None:
        super().__init__("expired")
        self.subscriber_id = subscriber_id
        self.nonce = nonce


@dataclass(frozen=True)
class TokenData:
    subscriber_id: int
    nonce: str | None
    signed_at: float | None = None  # Unix time, from the token's own timestamp
    # The edition whose letter carried the link (a digest's links name it); else None.
    digest_id: int | None = None

    def younger_than(self, seconds: int) -> bool:
        return self.signed_at is not None and time.time() - self.signed_at <= seconds


@dataclass(frozen=True)
class ReaderLinks:
    unsubscribe_url: str
    manage_url: str


@lru_cache(maxsize=32)
def _serializer(secret_keys: tuple[str, ...], salt: str) -> URLSafeTimedSerializer:
    # Key rotation: itsdangerous signs with the last key and accepts every key of the list.
    return URLSafeTimedSerializer(list(secret_keys), salt=salt)


def _keys() -> tuple[str, ...]:
    old = current_app.config.get("OLD_SECRET_KEYS") or ()
    return (*old, current_app.config["SECRET_KEY"])


def serializer(salt: str) -> URLSafeTimedSerializer:
    """This app's signer for tokens of another kind than a reader's link (its own salt)."""
    return _serializer(_keys(), salt)


def sign(purpose: Purpose, subscriber_id: int, nonce: str | None = None) -> str:
    payload: dict[str, object] = {"sid": subscriber_id, "lid": LIST_ID}
    if nonce is not None:
        payload["nonce"] = nonce
    return str(_serializer(_keys(), purpose.value).dumps(payload))


def read(purpose: Purpose, token: str, *, max_age: int | None = None) -> TokenData:
    """The token's reader id and nonce; InvalidToken or ExpiredToken otherwise."""
    serializer = _serializer(_keys(), purpose.value)
    try:
        payload, signed_at = serializer.loads(token, max_age=max_age, return_timestamp=True)
    except SignatureExpired as exc:
        # The signature was good, only too old: the payload can be trusted to offer a new link.
        try:
            data = _data(serializer.load_payload(exc.payload or b""))
        except BadSignature:
            raise InvalidToken from None
        raise ExpiredToken(data.subscriber_id, data.nonce) from None
    except BadSignature:
        raise InvalidToken from None
    return _data(payload, signed_at.timestamp())


def _data(payload: object, signed_at: float | None = None) -> TokenData:
    if not isinstance(payload, dict) or payload.get("lid") != LIST_ID:
        raise InvalidToken
    sid, nonce, digest_id = payload.get("sid"), payload.get("nonce"), payload.get("d")
    if not isinstance(sid, int) or not (nonce is None or isinstance(nonce, str)):
        raise InvalidToken
    if not (digest_id is None or isinstance(digest_id, int)):
        raise InvalidToken
    return TokenData(subscriber_id=sid, nonce=nonce, signed_at=signed_at, digest_id=digest_id)


def twin(token: str, purpose: Purpose) -> str:
    """The same payload and moment, signed for another purpose: an email's unsubscribe and
    manage links are such twins, so one opens no more, and for no longer, than the other.
    Only for a token already read (a forged one makes a twin that fails to read)."""
    signed_value = token.rsplit(".", 1)[0]  # payload.timestamp
    signer = TimestampSigner(current_app.config["SECRET_KEY"], salt=purpose.value)
    return f"{signed_value}.{signer.get_signature(signed_value).decode()}"


def confirm_max_age() -> int:
    return int(current_app.config["CONFIRM_TOKEN_DAYS"]) * 86400


def manage_max_age() -> int:
    """Manage links expire; unsubscribe links never do (RFC 8058, and the law)."""
    return int(current_app.config["MANAGE_LINK_DAYS"]) * 86400


def absolute(path: str) -> str:
    """Links in emails are built from BASE_URL: they work from a worker, outside any request."""
    return f"{current_app.config['BASE_URL']}{path}"


def confirm_url(subscriber_id: int, nonce: str) -> str:
    return absolute(f"/confirm/{sign(Purpose.CONFIRM, subscriber_id, nonce)}")


def erase_url(subscriber_id: int, nonce: str) -> str:
    return absolute(f"/erase/{sign(Purpose.ERASE, subscriber_id, nonce)}")


def reader_links(subscriber_id: int) -> ReaderLinks:
    """The links every email carries: unsubscribe never expires, manage after MANAGE_LINK_DAYS."""
    return reader_links_signer()(subscriber_id)


def reader_links_signer(digest_id: int | None = None) -> Callable[[int], ReaderLinks]:
    """reader_links bound to this app's key and base URL: for signing many in a row. A
    digest's links also name its edition, so that whoever leaves from it is counted there."""
    signer = _links(current_app.config["SECRET_KEY"], current_app.config["BASE_URL"])
    if digest_id:
        return functools.partial(signer.for_reader, digest_id=digest_id)
    return signer.for_reader


class _ReaderLinks:
    """What sign() makes for UNSUBSCRIBE and MANAGE, byte for byte, at a fraction of the cost:
    a digest signs two links per reader. Token: b64(json) "." b64(time) "." b64(HMAC-SHA1)."""

    def __init__(self, secret_key: str, base_url: str) -> None:
        self._base = base_url
        self._macs = {
            purpose: hmac.new(
                TimestampSigner(secret_key, salt=purpose.value).derive_key(), None, "sha1"
            )
            for purpose in (Purpose.UNSUBSCRIBE, Purpose.MANAGE)
        }
        self._second, self._stamp = -1, b""

    def for_reader(self, subscriber_id: int, *, digest_id: int | None = None) -> ReaderLinks:
        now = int(time.time())
        if now != self._second:
            self._second, self._stamp = now, base64_encode(int_to_bytes(now))
        edition = f',"d":{int(digest_id)}' if digest_id else ""
        payload = base64_encode(
            f'{{"sid":{int(subscriber_id)},"lid":"{LIST_ID}"{edition}}}'.encode()
        )
        value = payload + b"." + self._stamp
        unsubscribe, manage = (self._token(p, value) for p in self._macs)
        return ReaderLinks(
            unsubscribe_url=f"{self._base}/unsubscribe/{unsubscribe}",
            manage_url=f"{self._base}/manage/{manage}",
        )

    def _token(self, purpose: Purpose, value: bytes) -> str:
        mac = self._macs[purpose].copy()
        mac.update(value)
        return (value + b"." + base64_encode(mac.digest())).decode()


@lru_cache(maxsize=8)
def _links(secret_key: str, base_url: str) -> _ReaderLinks:
    return _ReaderLinks(secret_key, base_url)
