"""Digest messages written as bytes: headers folded once per digest or body, parts QP-encoded in C.

The email package takes milliseconds per message (header objects, folding, its QP encoder);
a digest goes to every reader, so only what differs per reader is built per reader here.
Tests parse the result with the email package, and a DKIM verifier checks it.
"""

from __future__ import annotations

import binascii
import re
from email.headerregistry import Address
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
    # RFC 2047 words folded by the email package (email.header.Header splits them wrongly).
    return header_line("To", Address(display_name=display, addr_spec=email))


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


def multipart(*, head: bytes, boundary: str, text: str, html: str) -> bytes:
    """multipart/alternative, the text part first (clients show the last part they can)."""
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
            quoted_printable(text),
            b"\r\n--",
            mark,
            b"\r\n",
            HTML_PART,
            quoted_printable(html),
            b"\r\n--",
            mark,
            b"--\r\n",
        )
    )
