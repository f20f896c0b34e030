"""What editors see outside the mailbox: previews and test emails."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from flask import current_app

from newsletter.digests.compose import DigestBody, DigestComposer
from newsletter.digests.editions import special_draft, weekly_draft
from newsletter.mail.smtp import LoginRefused, PermanentFailure, SmtpSender, TemporaryFailure
from newsletter.models import REGIONS


def preview_composer(digest_id: int | None) -> DigestComposer:
    """A stored digest's composer, or (no id) the weekly digest as it would be made now."""
    if digest_id is not None:
        return DigestComposer.load(digest_id)
    return DigestComposer.for_digest(weekly_draft())


def preview(
    digest_id: int | None, regions: Sequence[str], language: str
) -> tuple[DigestComposer, DigestBody | None]:
    composer = preview_composer(digest_id)
    return composer, composer.body_for(tuple(regions), language)


def site_copy(composer: DigestComposer, body: DigestBody) -> tuple[str, str]:
    """(text, HTML) with the links a non-reader may follow: the site, not a reader's token."""
    home = f"{composer.settings.base_url}/"
    return composer.personalise(body, unsubscribe_url=home, manage_url=home, name=None)


def send_test(
    *, address: str, regions: Sequence[str], language: str, digest_id: int | None
) -> bool:
    """Mail an editor what a reader of these regions would get; False when they get nothing."""
    composer, body = preview(digest_id, regions, language)
    if body is None:
        return False
    _send(composer, body, address)
    return True


def special_fields(
    *,
    regions: Sequence[str],
    since: datetime,
    until: datetime,
    intro: str | None,
    pinned_article_id: int | None,
) -> dict[str, Any]:
    """A special edition not made yet, as a task's JSON arguments (special_test takes them)."""
    return {
        "regions": list(regions),
        "since": since.isoformat(),
        "until": until.isoformat(),
        "intro": intro,
        "pinned_article_id": pinned_article_id,
    }


def send_special_test(
    *, address: str, regions: Sequence[str], language: str, edition: dict[str, Any]
) -> bool:
    """Mail an editor a special edition before it exists, as a reader of `regions` would get
    it (the edition's regions, or all, when empty). Nothing is stored."""
    draft = special_draft(
        regions=edition["regions"],
        since=datetime.fromisoformat(edition["since"]),
        until=datetime.fromisoformat(edition["until"]),
        intro=edition["intro"],
        pinned_article_id=edition["pinned_article_id"],
    )
    composer = DigestComposer.for_digest(draft)
    reader = tuple(regions) or tuple(draft.region_slugs or [slug for slug, _, _ in REGIONS])
    body = composer.body_for(reader, language)
    if body is None:
        return False
    _send(composer, body, address)
    return True


def _send(composer: DigestComposer, body: DigestBody, address: str) -> None:
    data = composer.test_message_for(body, email=address)
    sender = SmtpSender(current_app.config["SMTP_URL"])
    try:
        sender.send_raw(parseaddr(composer.settings.mail_from)[1], address, data)
    except LoginRefused:
        raise  # no retry helps until SMTP_URL is fixed
    except (TemporaryFailure, PermanentFailure) as exc:
        # The editor's own address, refused or not reached: the task tries again, then logs
        # this line for the editor to read.
        raise TemporaryFailure(f"test digest to {address} not sent: {exc}") from exc
