"""The links in a digest: the reader's (from subscriptions) and the view-in-browser link.

The view-in-browser link names a digest body (digest, regions, language). In a reader's email
it also carries that reader's unsubscribe token (`?reader=`), so the web copy's "Choisir mes
régions" and "Se désinscrire" lead to the reader's own pages, as the email's do. Without it
(an editor's test email, an older link) the web copy is a visitor's: no reader's link at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, TimestampSigner, URLSafeSerializer

from newsletter.subscriptions.tokens import (
    ExpiredToken,
    InvalidToken,
    Purpose,
    ReaderLinks,
    absolute,
    reader_links_signer,
)
from newsletter.subscriptions.tokens import read as read_token

VIEW_SALT = "digest-view-v1"
READER_PARAM = "reader"


@dataclass(frozen=True)
class CopyReader:
    """Whose web copy this is, and the links their email carried."""

    subscriber_id: int
    links: ReaderLinks


def reader_links_provider(digest_id: int | None = None) -> Callable[[int], ReaderLinks]:
    """The reader's own links, signed by subscriptions (resolved once per composer); a
    stored edition's name it, so an unsubscribe from its letter is counted against it."""
    return reader_links_signer(digest_id)


def _view_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=VIEW_SALT)


def view_url(digest_id: int, region_slugs: Sequence[str], language: str) -> str:
    """A signed link to the web copy of one digest body; it names regions, never the reader.

    A reader's email appends `reader_suffix` to it; an editor's test email does not.
    """
    token = _view_signer().dumps({"d": digest_id, "r": list(region_slugs), "l": language})
    return f"{current_app.config['BASE_URL']}/digests/view/{token}"


def reader_suffix(links: ReaderLinks) -> str:
    """What a reader's email appends to the view link: the unsubscribe token it already holds.

    Reused rather than signed again: a digest signs two links per reader, not three. The
    token is the last segment of the unsubscribe URL that subscriptions builds.
    """
    return f"?{READER_PARAM}={links.unsubscribe_url.rsplit('/', 1)[1]}"


def read_view_token(token: str) -> tuple[int, tuple[str, ...], str] | None:
    try:
        data = _view_signer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    return int(data["d"]), tuple(str(s) for s in data["r"]), str(data["l"])


def read_reader(unsubscribe_token: str) -> CopyReader | None:
    """The reader a view link names and the links their email carried; None if forged.

    The manage link is the email's own, same moment and all, not a fresh one: signing it
    again at every view would renew an expired preferences link for whoever holds the
    copy's URL. An expired one offers a new link by email, to the reader's address only.
    """
    try:
        data = read_token(Purpose.UNSUBSCRIBE, unsubscribe_token)
    except (InvalidToken, ExpiredToken):
        return None
    signed_value = unsubscribe_token.rsplit(".", 1)[0]  # payload.timestamp
    signer = TimestampSigner(current_app.config["SECRET_KEY"], salt=Purpose.MANAGE.value)
    manage_token = f"{signed_value}.{signer.get_signature(signed_value).decode()}"
    return CopyReader(
        subscriber_id=data.subscriber_id,
        links=ReaderLinks(
            unsubscribe_url=absolute(f"/unsubscribe/{unsubscribe_token}"),
            manage_url=absolute(f"/manage/{manage_token}"),
        ),
    )
