"""A digest message as a mail client and a relay see it: parts, headers, valid inlined HTML."""

from __future__ import annotations

import base64
import re
import subprocess
from collections.abc import Callable
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import dkim
import html5lib
import pytest
from flask import Flask

from newsletter.digests.compose import DigestBody, DigestComposer
from newsletter.digests.editions import create_special
from newsletter.digests.links import reader_suffix
from newsletter.models import Subscriber
from newsletter.subscriptions import tokens
from newsletter.subscriptions.tokens import reader_links_signer
from tests.digests.conftest import SAMPLE_SINCE, SAMPLE_UNTIL


@pytest.fixture(scope="session")
def dkim_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A throwaway RSA key (PEM path) and its public half as a DNS TXT record."""
    folder = tmp_path_factory.mktemp("dkim")
    key = folder / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    der = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return key, b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


@pytest.fixture
def app_overrides(dkim_key: tuple[Path, bytes]) -> dict[str, Any]:
    return {
        "BASE_URL": "https://lettre.revue-internationale.example",
        "MAIL_FROM": "La Revue Internationale <lettre@revue-internationale.example>",
        "MAIL_REPLY_TO": "redaction@revue-internationale.example",
        "DKIM_SELECTOR": "lettre2026",
        "DKIM_PRIVATE_KEY_PATH": str(dkim_key[0]),
    }


@pytest.fixture
def composer(app: Flask, sample_articles: None) -> DigestComposer:
    edition = create_special(since=SAMPLE_SINCE, until=SAMPLE_UNTIL)
    return DigestComposer.load(edition.digest.id)


def send_one(
    composer: DigestComposer, reader: Subscriber, *, message_id: str = "<d1.r1@test>"
) -> tuple[DigestBody, bytes]:
    body = composer.body_for(tuple(reader.region_slugs), reader.language)
    assert body is not None
    raw = composer.message_for(
        body, email=reader.email, name=reader.name, subscriber_id=reader.id, message_id=message_id
    )
    return body, raw


def parse(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_a_digest_is_a_text_part_then_an_html_part_with_every_list_header(
    composer: DigestComposer, make_reader: Callable[..., Subscriber]
) -> None:
    reader = make_reader("russie", name="Zoé Dupont-Lefèvre")

    message_id = "<digest-1.reader-7@revue-internationale.example>"
    body, raw = send_one(composer, reader, message_id=message_id)
    message = parse(raw)

    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert message["Subject"] == "Russie : 4 articles — Édition spéciale"
    assert message["From"] == "La Revue Internationale <lettre@revue-internationale.example>"
    assert message["To"].addresses[0].display_name == "Zoé Dupont-Lefèvre"
    assert message["To"].addresses[0].addr_spec == reader.email
    assert message["Reply-To"] == "redaction@revue-internationale.example"
    assert message["Date"].datetime is not None
    assert message["Message-ID"] == "<digest-1.reader-7@revue-internationale.example>"
    assert message["List-Id"] == "La Revue Internationale <digest.revue-internationale.example>"
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith("<https://lettre.revue-internationale.example/")
    assert unsubscribe.endswith(">") and "\n" not in unsubscribe
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The raw header is one plain line: clients do not decode encoded-words in it.
    assert b"List-Unsubscribe: <https://" in raw
    text, html = (p.get_content() for p in parts)
    assert "Bonjour Zoé Dupont-Lefèvre," in text and "Bonjour Zoé Dupont-Lefèvre," in html
    assert unsubscribe.strip("<>") in text
    assert unsubscribe.strip("<>").replace("&", "&amp;") in html
    assert body.view_url in text and body.view_url in html


def test_the_html_part_is_valid_html_with_every_style_inlined(
    composer: DigestComposer, make_reader: Callable[..., Subscriber]
) -> None:
    _, raw = send_one(composer, make_reader("afrique", "moyen-orient", language="en"))
    html = parse(raw).get_body(("html",)).get_content()

    assert "<style" not in html.lower()
    assert 'style="' in html
    html5lib.HTMLParser(strict=True).parse(html)  # raises on any parse error
    assert "Le Mali quitte le G5 Sahel" in html
    assert "16 May 2022" in html


def test_the_message_is_dkim_signed_over_from_subject_and_the_unsubscribe_headers(
    composer: DigestComposer,
    make_reader: Callable[..., Subscriber],
    dkim_key: tuple[Path, bytes],
) -> None:
    _, raw = send_one(composer, make_reader("russie"))
    signature = parse(raw)["DKIM-Signature"]

    fields = {k.strip(): v.strip() for k, _, v in (f.partition("=") for f in signature.split(";"))}
    signed = {h.strip().lower() for h in "".join(fields["h"].split()).split(":")}
    assert {"from", "subject", "list-unsubscribe", "list-unsubscribe-post"} <= signed
    assert fields["d"] == "revue-internationale.example" and fields["s"] == "lettre2026"
    expected_name = b"lettre2026._domainkey.revue-internationale.example."

    def dns(name: bytes, timeout: int = 5) -> bytes | None:
        return dkim_key[1] if name == expected_name else None

    assert dkim.verify(raw, dnsfunc=dns)


def test_readers_share_a_body_but_each_gets_their_own_links_and_name(
    composer: DigestComposer, make_reader: Callable[..., Subscriber]
) -> None:
    anne = make_reader("russie", name="Anne")
    bob = make_reader("russie")

    anne_body, anne_raw = send_one(composer, anne)
    bob_body, bob_raw = send_one(composer, bob)

    assert anne_body is bob_body
    anne_msg, bob_msg = parse(anne_raw), parse(bob_raw)
    assert anne_msg["List-Unsubscribe"] != bob_msg["List-Unsubscribe"]
    assert "Bonjour Anne," in anne_msg.get_body(("plain",)).get_content()
    assert "Bonjour," in bob_msg.get_body(("plain",)).get_content()
    assert bob_msg["To"].addresses[0].display_name == ""


def test_a_retry_of_the_same_delivery_is_the_same_message_with_working_links(
    composer: DigestComposer,
    make_reader: Callable[..., Subscriber],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A retry (after a deferral, or sent again from the uncertain list) comes later, from
    another worker: same Message-ID, headers and content; only the links' signing time moves,
    and both copies' links still lead to this reader's pages; article links carry the moment
    each copy was made (clicks/)."""
    reader = make_reader("russie")
    clock = [1_767_225_600.0]  # the links' signing time, as tokens.py reads it
    monkeypatch.setattr(tokens, "time", SimpleNamespace(time=lambda: clock[0]))

    first = parse(send_one(composer, reader, message_id="<d9.r3@x.example>")[1])
    clock[0] += 3600  # retried an hour later, by a composer of its own
    retry_composer = DigestComposer.load(composer.edition.id)
    again = parse(send_one(retry_composer, reader, message_id="<d9.r3@x.example>")[1])

    assert first["Message-ID"] == again["Message-ID"] == "<d9.r3@x.example>"
    for name in ("Subject", "From", "To", "List-Id", "List-Unsubscribe-Post"):
        assert first[name] == again[name], name
    assert _without_reader_links(first) == _without_reader_links(again)
    for message in (first, again):
        unsubscribe = message["List-Unsubscribe"].strip("<>")
        assert unsubscribe in message.get_body(("plain",)).get_content()
        for purpose, token in _reader_tokens(message):
            assert tokens.read(purpose, token).subscriber_id == reader.id
    assert _reader_tokens(first) != _reader_tokens(again)  # signed at the retry's time


# The reader's pages, and the view-in-browser link that names the reader (?reader=).
_READER_LINK = re.compile(r"(/unsubscribe/|/manage/|\?reader=)([A-Za-z0-9_.-]+)")


def _reader_tokens(message: EmailMessage) -> list[tuple[tokens.Purpose, str]]:
    purposes = {
        "/unsubscribe/": tokens.Purpose.UNSUBSCRIBE,
        "?reader=": tokens.Purpose.UNSUBSCRIBE,
        "/manage/": tokens.Purpose.MANAGE,
    }
    text = message.get_body(("plain",)).get_content() + message.get_body(("html",)).get_content()
    found = [(purposes[kind], token) for kind, token in _READER_LINK.findall(text)]
    assert {purpose for purpose, _ in found} == set(purposes.values())
    return found


# When the message was made, in its article links (clicks/): a retry's is its own moment.
_MINTED = re.compile(r"([?&](?:amp;)?t=)[0-9a-z]+")


def _without_reader_links(message: EmailMessage) -> list[str]:
    return [
        _MINTED.sub(r"\1T", _READER_LINK.sub(r"\1TOKEN", message.get_body((kind,)).get_content()))
        for kind in ("plain", "html")
    ]


def test_the_signature_holds_over_folded_headers_and_long_lines(
    app: Flask,
    sample_articles: None,
    make_reader: Callable[..., Subscriber],
    dkim_key: tuple[Path, bytes],
) -> None:
    from newsletter.models import Article, db

    iran = db.session.execute(
        db.select(Article).where(Article.title.like("Otages en Iran%"))
    ).scalar_one()
    iran.title = "Otages en Iran : ne nourrissez pas le crocodile, " * 4 + "\t fin  "
    db.session.commit()
    edition = create_special(
        since=SAMPLE_SINCE, until=SAMPLE_UNTIL, pinned_article_id=iran.id, intro="a  \t b  "
    )
    composer = DigestComposer.load(edition.digest.id)
    reader = make_reader("afrique", name="Ωμέγα Zoé-Δέλτα " * 5)
    _, raw = send_one(composer, reader)

    assert b"\r\n " in raw.split(b"\r\n\r\n", 1)[0]  # some header was folded
    assert dkim.verify(raw, dnsfunc=lambda name, timeout=5: dkim_key[1])
    tampered = raw.replace(b"Bonjour", b"Bonsoir", 1)
    assert not dkim.verify(tampered, dnsfunc=lambda name, timeout=5: dkim_key[1])


def test_each_part_decodes_to_the_readers_personal_copy_in_lines_of_at_most_76(
    composer: DigestComposer, make_reader: Callable[..., Subscriber]
) -> None:
    zoe = make_reader("russie", "afrique", name="Zoé = « Ωμέγα » " * 3)
    body, raw = send_one(composer, zoe)
    links = reader_links_signer(composer.edition.id)(zoe.id)  # a letter's links name its edition
    message = parse(raw)
    # The one value made at sending: when the message was made, in its article links.
    minted = re.search(r"\?t=([0-9a-z]+)", message.get_body(("plain",)).get_content())
    text, markup = composer.personalise(
        body,
        unsubscribe_url=links.unsubscribe_url,
        manage_url=links.manage_url,
        name=zoe.name,
        viewer=reader_suffix(links),
        minted=minted.group(1) if minted else "0",
    )

    # The parts were encoded once per body and joined with each reader's values.
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == text
    assert message.get_body(("html",)).get_content().replace("\r\n", "\n") == markup
    to = raw.split(b"\r\nTo: ", 1)[1].split(b"\r\n <", 1)[0].decode("ascii")
    assert str(make_header(decode_header(to.replace("\r\n", "")))) == " ".join(zoe.name.split())
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    content = raw.split(b"\r\n\r\n", 1)[1]
    assert all(len(line) <= 76 for line in content.split(b"\r\n"))
