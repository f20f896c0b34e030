"""DigestComposer: the delivery engine's one seam into digests.

`body_for` renders once per distinct (regions, language) and caches; `message_for` runs once
per reader and only substitutes placeholders and assembles headers: no Jinja, no CSS inlining.
"""

from __future__ import annotations

import html
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from flask import current_app

from newsletter.clicks.refs import TOP, ClickRef, click_url, encode_minted
from newsletter.clicks.sections import letter_sections
from newsletter.digests.assemble import (
    ArticleItem,
    DigestSection,
    Window,
    article_ids,
    body_content,
    load_window,
    menu_order,
)
from newsletter.digests.links import reader_links_provider, reader_suffix, view_url
from newsletter.digests.message import (
    BOUNDARY_PREFIX,
    date_line,
    encode_pieces,
    encoded_multipart,
    header_line,
    join_pieces,
    list_unsubscribe_lines,
    message_id_line,
    to_line,
)
from newsletter.digests.render import LABELS, EditionInfo, Links, render_digest
from newsletter.digests.signing import DkimSigner
from newsletter.mail.domain import sender_domain
from newsletter.mail.render import RenderedEmail, one_line
from newsletter.models import Digest, db

DKIM_HEADERS = (
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "reply-to",
    "list-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "mime-version",
    "content-type",
)


@dataclass(frozen=True)
class DigestBody:
    """One rendered body, shared by every reader with the same regions and language."""

    subject: str
    text: str
    html: str
    article_ids: tuple[int, ...]
    region_slugs: tuple[str, ...]
    language: str
    view_url: str
    # Which sections the letter has (clicks/sections.py): recorded with each `sent`.
    sections: int = 0
    # The Subject header, encoded and folded once for every reader of this body.
    subject_header: bytes = field(default=b"", repr=False)
    # Both parts quoted-printable encoded once, split at the reader's placeholders.
    text_pieces: tuple[bytes | str, ...] = field(default=(), repr=False)
    html_pieces: tuple[bytes | str, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class SenderSettings:
    mail_from: str
    reply_to: str
    base_url: str
    timezone: str
    dkim_selector: str
    dkim_key: bytes | None
    dkim_domain: str = ""  # DKIM's d=; empty: the From domain

    @property
    def domain(self) -> str:
        return sender_domain(self.mail_from)

    @classmethod
    def from_config(cls, config: Any) -> SenderSettings:
        key_path = config.get("DKIM_PRIVATE_KEY_PATH") or ""
        selector = config.get("DKIM_SELECTOR") or ""
        key = Path(key_path).read_bytes() if key_path and selector else None
        return cls(
            mail_from=config["MAIL_FROM"],
            reply_to=config.get("MAIL_REPLY_TO") or "",
            base_url=config["BASE_URL"],
            timezone=config["TIMEZONE"],
            dkim_selector=selector,
            dkim_key=key,
            dkim_domain=config.get("DKIM_DOMAIN") or "",
        )


class DigestComposer:
    def __init__(
        self,
        edition: EditionInfo,
        window: Window,
        settings: SenderSettings,
        *,
        reader_links: Callable[[int], Any],
        click_counting: bool = False,
    ) -> None:
        self.edition = edition
        # Article links through /r/ (clicks/): only for a stored edition, whose id they name.
        self._click_links = click_counting and bool(edition.id)
        self.window = window
        self.settings = settings
        self._reader_links = reader_links
        self._bodies: dict[tuple[tuple[str, ...], str], DigestBody | None] = {}
        # Random per composer, letters and digits only: survives escaping and inlining, and no
        # article text can contain it, so substitution never touches what an author wrote.
        tag = secrets.token_hex(8)
        names = ("unsub", "manage", "greet", "viewer", "mint")
        self._marks = {name: f"nlmark{tag}{name}" for name in names}
        self._mark_re = re.compile("|".join(re.escape(m) for m in self._marks.values()))
        self._boundary = f"{BOUNDARY_PREFIX}{secrets.token_hex(12)}"
        fixed = [header_line("From", settings.mail_from)]
        if settings.reply_to:
            fixed.append(header_line("Reply-To", settings.reply_to))
        fixed.append(header_line("List-Id", f"La Revue Internationale <digest.{settings.domain}>"))
        self._fixed_head = b"".join(fixed)
        self._signer = None
        if settings.dkim_key is not None:
            self._signer = DkimSigner(
                private_key_pem=settings.dkim_key,
                selector=settings.dkim_selector,
                domain=settings.dkim_domain or settings.domain,
                headers=DKIM_HEADERS,
            )

    @classmethod
    def load(cls, digest_id: int) -> DigestComposer:
        digest = db.session.get(Digest, digest_id)
        if digest is None:
            raise LookupError(f"no digest {digest_id}")
        return cls.for_digest(digest)

    @classmethod
    def for_digest(cls, digest: Digest) -> DigestComposer:
        """For a stored digest, or a draft not stored (editors' preview of the next weekly)."""
        config = current_app.config
        edition = EditionInfo(
            id=digest.id or 0,
            kind=digest.kind,
            window_start=digest.window_start,
            window_end=digest.window_end,
            intro=digest.intro,
            timezone=config["TIMEZONE"],
        )
        return cls(
            edition,
            load_window(digest),
            SenderSettings.from_config(config),
            reader_links=reader_links_provider(digest.id),
            click_counting=config["CLICK_COUNTING"],
        )

    def body_for(self, region_slugs: tuple[str, ...], language: str) -> DigestBody | None:
        """The body for readers of these regions in this language; None when nothing is new."""
        language = language if language in LABELS else "fr"
        key = (menu_order(self.window, region_slugs), language)
        if key not in self._bodies:
            self._bodies[key] = self._render(*key)
        return self._bodies[key]

    def _render(self, slugs: tuple[str, ...], language: str) -> DigestBody | None:
        url = view_url(self.edition.id, slugs, language)
        marks = self._marks
        links = Links(
            unsubscribe_url=marks["unsub"],
            manage_url=marks["manage"],
            # A reader's email adds who they are to the link; an editor's test email does not.
            view_url=url + marks["viewer"],
            greeting=marks["greet"],
            article_href=self._click_href if self._click_links else None,
        )
        made = self.render_with(slugs, language, links)
        if made is None:
            return None
        rendered, sections, pinned = made
        text, markup = _lf(rendered.text), _lf(rendered.html)
        return DigestBody(
            subject=rendered.subject,
            text=text,
            html=markup,
            article_ids=((pinned.id,) if pinned else ()) + article_ids(sections),
            region_slugs=slugs,
            language=language,
            view_url=url,
            sections=letter_sections((s.region.id for s in sections), pinned=pinned is not None),
            subject_header=header_line("Subject", rendered.subject),
            text_pieces=encode_pieces(text, self._mark_re),
            html_pieces=encode_pieces(markup, self._mark_re),
        )

    def _click_href(self, article: ArticleItem, section: str | None) -> str:
        """The counter's link: the same for every reader of the section, but for the message's
        mint time, filled per message (clicks/counting.py: scanners)."""
        ref = ClickRef(self.edition.id, article.id, section or TOP)
        return click_url(ref, minted=self._marks["mint"])

    def render_with(
        self, slugs: tuple[str, ...], language: str, links: Links
    ) -> tuple[RenderedEmail, tuple[DigestSection, ...], ArticleItem | None] | None:
        """The edition for readers of these regions (in menu order), with these links; None
        when nothing is new for them. Also what the web copy shows, with a reader's own links."""
        content = body_content(self.window, slugs)
        if content is None:
            return None
        sections, pinned = content
        rendered = render_digest(
            self.edition,
            sections,
            pinned,
            followed=self.window.names(slugs, language),
            language=language,
            links=links,
            base_url=self.settings.base_url,
        )
        return rendered, sections, pinned

    def personalise(
        self,
        body: DigestBody,
        *,
        unsubscribe_url: str,
        manage_url: str,
        name: str | None,
        viewer: str = "",
        minted: str = "0",
    ) -> tuple[str, str]:
        """(text, html) with the reader's links and greeting: one regex pass over each part.

        `viewer` is what the view-in-browser link says of the reader (links.reader_suffix);
        `minted`, the mint time article links carry ("0": not counted, for previews).
        """
        plain, escaped = self._values(
            body, unsubscribe_url, manage_url, name, viewer=viewer, minted=minted
        )
        text = self._mark_re.sub(lambda m: plain[m.group(0)], body.text)
        markup = self._mark_re.sub(lambda m: escaped[m.group(0)], body.html)
        return text, markup

    def _values(
        self,
        body: DigestBody,
        unsubscribe_url: str,
        manage_url: str,
        name: str | None,
        *,
        viewer: str,
        minted: str = "0",
    ) -> tuple[dict[str, str], dict[str, str]]:
        """What each placeholder becomes for this reader, in the text part and in the HTML."""
        labels = LABELS[body.language]
        clean_name = one_line(name or "")
        greeting = labels["greeting_anonymous"]
        if clean_name:
            greeting = labels["greeting"].format(name=clean_name)
        plain = {
            self._marks["unsub"]: unsubscribe_url,
            self._marks["manage"]: manage_url,
            self._marks["greet"]: greeting,
            self._marks["viewer"]: viewer,
            # When a reader's message was made; "0" (a test, a preview) is never counted.
            self._marks["mint"]: minted,
        }
        escaped = {mark: html.escape(value, quote=True) for mark, value in plain.items()}
        return plain, escaped

    def message_for(
        self,
        body: DigestBody,
        *,
        email: str,
        name: str | None,
        subscriber_id: int,
        message_id: str,
    ) -> bytes:
        """The RFC 5322 bytes for one reader, ready for SMTP DATA."""
        links = self._reader_links(subscriber_id)
        return self._message(
            body,
            email=email,
            name=name,
            unsubscribe_url=links.unsubscribe_url,
            manage_url=links.manage_url,
            viewer=reader_suffix(links),
            message_id=message_id,
            minted=encode_minted(int(time.time())),
        )

    def test_message_for(self, body: DigestBody, *, email: str) -> bytes:
        """What a reader would get, to an editor's address: the links lead to the site."""
        home = f"{self.settings.base_url}/"
        return self._message(
            body,
            email=email,
            name=None,
            unsubscribe_url=home,
            manage_url=home,
            viewer="",
            message_id=make_msgid(domain=self.settings.domain),
            subject_prefix="[Test] ",
        )

    def _message(
        self,
        body: DigestBody,
        *,
        email: str,
        name: str | None,
        unsubscribe_url: str,
        manage_url: str,
        viewer: str,
        message_id: str,
        subject_prefix: str = "",
        minted: str = "0",
    ) -> bytes:
        plain, escaped = self._values(
            body, unsubscribe_url, manage_url, name, viewer=viewer, minted=minted
        )
        subject = body.subject_header
        if subject_prefix or not subject:
            subject = header_line("Subject", subject_prefix + body.subject)
        head = b"".join(
            (
                subject,
                self._fixed_head,
                to_line(email, name),
                date_line(),
                message_id_line(message_id),
                list_unsubscribe_lines(unsubscribe_url),
            )
        )
        # Only the reader's few values are encoded here; the rest was encoded with the body.
        data = encoded_multipart(
            head=head,
            boundary=self._boundary,
            text=join_pieces(body.text_pieces, plain),
            html=join_pieces(body.html_pieces, escaped),
        )
        if self._signer is not None:
            data = self._signer.signature_header(data) + data
        return data


def _lf(text: str) -> str:
    """LF line ends only: the message writer turns each into CRLF after QP-encoding."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
