"""What editors see outside the mailbox: previews and test emails."""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import parseaddr

from flask import current_app

from newsletter.digests.compose import DigestBody, DigestComposer
from newsletter.digests.editions import weekly_draft
from newsletter.mail.smtp import LoginRefused, PermanentFailure, SmtpSender, TemporaryFailure


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
    return True
