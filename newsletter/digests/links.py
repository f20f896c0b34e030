"""The links in a digest: the reader's (from subscriptions) and the view-in-browser link."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from newsletter.subscriptions.tokens import ReaderLinks, reader_links_signer

VIEW_SALT = "digest-view-v1"


def reader_links_provider() -> Callable[[int], ReaderLinks]:
    """The reader's own links, signed by subscriptions (resolved once per composer)."""
    return reader_links_signer()


def _view_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=VIEW_SALT)


def view_url(digest_id: int, region_slugs: Sequence[str], language: str) -> str:
    """A signed link to the web copy of one digest body; it names regions, never the reader.

    Anyone the reader forwards it to sees the articles, not the reader's unsubscribe link.
    """
    token = _view_signer().dumps({"d": digest_id, "r": list(region_slugs), "l": language})
    return f"{current_app.config['BASE_URL']}/digests/view/{token}"


def read_view_token(token: str) -> tuple[int, tuple[str, ...], str] | None:
    try:
        data = _view_signer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    return int(data["d"]), tuple(str(s) for s in data["r"]), str(data["l"])
