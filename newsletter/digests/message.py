"""Digest messages written as bytes: headers folded once per digest or body, parts QP-encoded in C.

The email package takes milliseconds per message (header objects, folding, its QP encoder);
a digest goes to every reader, so only what differs per reader is built per reader here.
Tests parse the result with the email package, and a DKIM verifier checks it.
"""

from __future__ import annotations

import base64
import binascii
import re
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from typing import Any

from newsletter.mail.render import one_line
from newsletter.models import utcnow

# "=_" never occurs in quoted-printable text: a boundary starting with it cannot collide.
BOUNDARY_PREFIX = "=_nl"
_PART = (
    b'Content-Type: text/{subtype}; charset="utf-8"\r\n'
    b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
)
TEXT_PART = _PART.replace(b"{subtype}", b"plain")
HTML_PART = _PART.replace(b"{subtype}", b"html")
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")
_UTF8_ADDRESS = re.compile(r'[^\s<>"(),;:@\\]+@[^\s<>"(),;:@\\]+')
_MESSAGE_ID = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]+>")


def header_line(name: str, value: Any) -> bytes:
    """One header, folded and RFC 2047-encoded by the email package: for once-per-body headers."""
    return str(SMTP.header_factory(name, value).fold(policy=SMTP)).encode("ascii")


def to_line(email: str, name: str | None) -> bytes:
    display = one_line(name or "")
    if not _PLAIN_ADDRESS.fullmatch(email):
        # An internationalised address (rare) travels with SMTPUTF8: the header is raw UTF-8.
        if not _UTF8_ADDRESS.fullmatch(email):
            raise ValueError(f"not an address: {email!r}")
        quoted = display.replace("\\", "\\\\").replace('"', '\\"')
        return (f'To: "{quoted}" <{email}>\r\n' if display else f"To: {email}\r\n").encode()
    if not display:
        return f"To: {email}\r\n".encode("ascii")
    if display.isascii():
        return f"To: {formataddr((display, email))}\r\n".encode("ascii")
    # RFC 2047 words, one per folded line, the address on the last: lines stay under 78.
    return f"To: {encoded_words(display)}\r\n <{email}>\r\n".encode("ascii")


def encoded_words(text: str) -> str:
    """RFC 2047 B-encoded words of at most 45 bytes (72 characters), cut between characters,
    folded one per line (the email package's folding costs about a millisecond a name)."""
    words: list[bytes] = []
    chunk = b""
    for character in text:
        encoded = character.encode("utf-8")
        if len(chunk) + len(encoded) > 45:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


def date_line() -> bytes:
    return f"Date: {format_datetime(utcnow())}\r\n".encode("ascii")


def message_id_line(message_id: str) -> bytes:
    wrapped = message_id if message_id.startswith("<") else f"<{message_id}>"
    if not _MESSAGE_ID.fullmatch(wrapped) or "@" not in wrapped:
        raise ValueError(f"not a Message-ID: {message_id!r}")
    return f"Message-ID: {wrapped}\r\n".encode("ascii")


def list_unsubscribe_lines(url: str) -> bytes:
    """RFC 8058 headers, written raw: the email package would fold a long URL into an
    RFC 2047 encoded-word, which mail clients do not decode in List-Unsubscribe."""
    if not url.startswith(("https://", "http://")):
        raise ValueError("the unsubscribe URL must be absolute http(s)")
    if not url.isascii() or any(c in url for c in '\r\n\t <>"') or len(url) > 900:
        raise ValueError("the unsubscribe URL must be one line of plain ASCII")
    return (
        f"List-Unsubscribe: <{url}>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
    ).encode("ascii")


def quoted_printable(text: str) -> bytes:
    """Lines of at most 76 characters, CRLF line ends. The text has LF line ends only."""
    return binascii.b2a_qp(text.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")


# A soft line break: nothing in the decoded text. It lets a part be encoded in pieces (the
# body once, each reader's few values per reader) and joined, every line still within 76.
SOFT_BREAK = b"=\r\n"


def encode_pieces(text: str, marks: re.Pattern[str]) -> tuple[bytes | str, ...]:
    """A part split at its placeholders: the fixed pieces quoted-printable encoded once
    (bytes), the placeholders kept as their names (str), for `join_pieces` per reader."""
    pieces: list[bytes | str] = []
    position = 0
    for found in marks.finditer(text):
        pieces.append(_piece(text[position : found.start()]))
        pieces.append(found.group(0))
        position = found.end()
    pieces.append(quoted_printable(text[position:]))
    return tuple(pieces)


def join_pieces(pieces: tuple[bytes | str, ...], values: dict[str, str]) -> bytes:
    return b"".join(
        piece if isinstance(piece, bytes) else _piece(values[piece]) for piece in pieces
    )


def _piece(text: str) -> bytes:
    encoded = quoted_printable(text)
    return encoded if not encoded or encoded.endswith(b"\r\n") else encoded + SOFT_BREAK


def multipart(*, head: bytes, boundary: str, text: str, html: str) -> bytes:
    """multipart/alternative, the text part first (clients show the last part they can)."""
    return encoded_multipart(
        head=head, boundary=boundary, text=quoted_printable(text), html=quoted_printable(html)
    )


def encoded_multipart(*, head: bytes, boundary: str, text: bytes, html: bytes) -> bytes:
    """The same, from parts already quoted-printable encoded."""
    mark = boundary.encode("ascii")
    return b"".join(
        (
            head,
            b'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="',
            mark,
            b'"\r\n\r\n--',
            mark,
            b"\r\n",
            TEXT_PART,
            text,
            b"\r\n--",
            mark,
            b"\r\n",
            HTML_PART,
            html,
            b"\r\n--",
            mark,
            b"--\r\n",
        )
    )
