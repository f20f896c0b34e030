"""The development mailbox's storage: a Maildir that the SMTP server fills and the page reads."""

from __future__ import annotations

import mailbox
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path


@dataclass(frozen=True)
class StoredMessage:
    key: str
    envelope_from: str
    envelope_to: list[str]
    message: EmailMessage
    # The bytes the SMTP server received, for the raw view: the parsed message, written out
    # again, would fold and encode headers its own way (List-Unsubscribe as an RFC 2047 word).
    raw: bytes

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    @property
    def date(self) -> str:
        return str(self.message.get("Date", ""))

    def body(self, subtype: str) -> str | None:
        part = self.message.get_body(preferencelist=(subtype,))
        return part.get_content() if part is not None else None  # type: ignore[union-attr]

    @property
    def raw_text(self) -> str:
        """The message as received, for reading: UTF-8 (anything else shown as �), LF ends."""
        return self.raw.decode("utf-8", errors="replace").replace("\r\n", "\n")


def open_box(path: str | Path) -> mailbox.Maildir:
    return mailbox.Maildir(str(path), create=True)


ENVELOPE_FIELDS = (b"X-Envelope-From: ", b"X-Envelope-To: ")


def deliver(path: str | Path, *, envelope_from: str, envelope_to: list[str], data: bytes) -> str:
    """Store one message with its envelope (two header lines put before it), as received."""
    envelope = f"X-Envelope-From: {envelope_from}\r\nX-Envelope-To: {', '.join(envelope_to)}\r\n"
    return open_box(path).add(envelope.encode() + data)


def list_messages(path: str | Path, *, limit: int = 200) -> list[StoredMessage]:
    box = open_box(path)
    keyed = [(key, box.get_file(key)) for key in box.iterkeys()]
    messages = []
    for key, handle in keyed:
        with handle:
            messages.append(_parse(key, handle.read()))
    messages.sort(key=lambda m: _arrival(m.key), reverse=True)
    return messages[:limit]


def get_message(path: str | Path, key: str) -> StoredMessage | None:
    box = open_box(path)
    try:
        handle = box.get_file(key)
    except KeyError:
        return None
    with handle:
        return _parse(key, handle.read())


def clear(path: str | Path) -> None:
    box = open_box(path)
    for key in list(box.keys()):
        box.discard(key)


def _parse(key: str, stored: bytes) -> StoredMessage:
    message = BytesParser(policy=policy.default).parsebytes(stored)
    assert isinstance(message, EmailMessage)
    recipients = [r.strip() for r in str(message.get("X-Envelope-To", "")).split(",") if r.strip()]
    return StoredMessage(
        key=key,
        envelope_from=str(message.get("X-Envelope-From", "")),
        envelope_to=recipients,
        message=message,
        raw=_without_envelope(stored),
    )


def _without_envelope(stored: bytes) -> bytes:
    """The message as the SMTP server received it: the envelope lines `deliver` added, gone."""
    for field in ENVELOPE_FIELDS:
        if stored.startswith(field):
            stored = stored.split(b"\n", 1)[1] if b"\n" in stored else b""
    return stored


def _arrival(key: str) -> tuple[int, int, str]:
    """Maildir names begin with the arrival time: "<seconds>.M<microseconds>P<pid>Q<n>.<host>"."""
    seconds, _, rest = key.partition(".")
    micro = rest[1:].split("P", 1)[0] if rest.startswith("M") else "0"
    return (int(seconds) if seconds.isdigit() else 0, int(micro) if micro.isdigit() else 0, key)
