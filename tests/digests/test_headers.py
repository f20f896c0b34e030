"""Header lines written by hand decode, with the email package, to what was meant."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.header import decode_header, make_header

import pytest

from newsletter.digests.message import (
    list_unsubscribe_lines,
    message_id_line,
    multipart,
    quoted_printable,
    to_line,
)


def parsed(head: bytes, text: str = "x\n", html: str = "<p>x</p>\n") -> object:
    raw = multipart(head=head, boundary="=_nltest", text=text, html=html)
    return message_from_bytes(raw, policy=policy.default)


@pytest.mark.parametrize(
    "name",
    [
        "Zoé Dupont-Lefèvre",
        'Dupont, "Jean" (rédaction)',
        "Jean Dupont",
        'Ann "the reader", Esq.',
        "Ωμέγα " * 20,
        "Mallory\r\nBcc: x@example.com",
    ],
)
def test_a_readers_name_comes_back_as_written_on_one_line(name: str) -> None:
    line = to_line("reader@example.org", name)
    message = parsed(line)

    # Read as RFC 2047 says (the email package's newer parser adds spaces between long
    # names' encoded words; mail clients do not).
    raw = line.decode("ascii").removeprefix("To: ").replace("\r\n", "")
    decoded = str(make_header(decode_header(raw)))
    expected = " ".join(name.split())
    [address] = message["To"].addresses
    assert expected in {address.display_name, decoded.removesuffix(" <reader@example.org>")}
    assert address.addr_spec == "reader@example.org"
    assert message["Bcc"] is None


def test_an_internationalised_address_is_written_as_utf8_for_smtputf8() -> None:
    assert to_line("zoé@exemple.fr", 'Zoé "Z"') == 'To: "Zoé \\"Z\\"" <zoé@exemple.fr>\r\n'.encode()
    with pytest.raises(ValueError):
        to_line("zoé@exemple.fr>\r\nBcc: x@y", None)


@pytest.mark.parametrize(
    "bad",
    ["<a\r\nBcc: x@y>", "no-domain", "<two words@x>"],
)
def test_a_message_id_that_would_break_the_header_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        message_id_line(bad)


@pytest.mark.parametrize(
    "bad", ["javascript:alert(1)", "https://x.example/a\r\nBcc: y@z", "https://x.example/é"]
)
def test_an_unsubscribe_url_that_would_break_the_header_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        list_unsubscribe_lines(bad)


def test_parts_are_quoted_printable_lines_of_at_most_76_characters() -> None:
    text = "é" * 300 + " = fin \n" + "ligne suivante\n"

    encoded = quoted_printable(text)

    assert all(len(line) <= 76 for line in encoded.split(b"\r\n"))
    assert b"\n" not in encoded.replace(b"\r\n", b"")
    message = parsed(b"Subject: t\r\n", text=text)
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == text
