"""The links in a digest: the reader's (from subscriptions) and the view-in-browser link."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

VIEW_SALT = "digest-view-v1"


@dataclass(frozen=True)
class DigestLinks:
    unsubscribe_url: str
    manage_url: str


def reader_links_provider() -> Callable[[int], Any]:
    """subscriptions.tokens.reader_links when it exists; otherwise links signed the same way.

    Resolved once per composer: the delivery engine calls it once per reader.
    """
    if importlib.util.find_spec("newsletter.subscriptions.tokens") is not None:
        module = importlib.import_module("newsletter.subscriptions.tokens")
        return module.reader_links  # type: ignore[no-any-return]
    base_url = current_app.config["BASE_URL"]
    unsub = URLSafeSerializer(current_app.config["SECRET_KEY"], salt="unsub-v1")
    manage = URLSafeSerializer(current_app.config["SECRET_KEY"], salt="manage-v1")

    def links(subscriber_id: int) -> DigestLinks:
        return DigestLinks(
            unsubscribe_url=f"{base_url}/unsubscribe/{unsub.dumps({'sid': subscriber_id})}",
            manage_url=f"{base_url}/preferences/{manage.dumps({'sid': subscriber_id})}",
        )

    return links


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
