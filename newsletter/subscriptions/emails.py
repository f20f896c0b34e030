"""The readers' transactional emails, sent by Celery tasks after the commit that decided them.

Each function re-reads the reader and gives up quietly when the world has moved on.
No user-typed text (the name) goes into these emails: they must not carry anyone's spam.
"""

from __future__ import annotations

from flask import current_app

from newsletter.mail.message import build_message
from newsletter.mail.render import render_email
from newsletter.mail.smtp import SmtpSender
from newsletter.models import Subscriber, SubscriberStatus, db, utcnow
from newsletter.subscriptions import tokens
from newsletter.subscriptions.addresses import smtp_address


def _send(kind: str, subscriber: Subscriber, **context: object) -> None:
    links = tokens.reader_links(subscriber.id)
    rendered = render_email(
        kind,
        language=subscriber.language,
        manage_url=links.manage_url,
        base_url=current_app.config["BASE_URL"],
        **context,
    )
    message = build_message(
        rendered,
        to=smtp_address(subscriber.email),
        mail_from=current_app.config["MAIL_FROM"],
        reply_to=current_app.config["MAIL_REPLY_TO"],
    )
    SmtpSender(current_app.config["SMTP_URL"]).send(message)


def send_confirmation(subscriber_id: int, *, unsent_only: bool = False) -> bool:
    """The double opt-in email; the link carries the current nonce, so it works once.

    unsent_only: for imported readers, so a retried chunk does not mail anyone twice.
    """
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.status != SubscriberStatus.PENDING:
        return False
    if unsent_only and subscriber.confirmation_sent_at is not None:
        return False
    url = tokens.confirm_url(subscriber.id, subscriber.token_nonce)
    _send("confirm", subscriber, confirm_url=url, days=current_app.config["CONFIRM_TOKEN_DAYS"])
    subscriber.confirmation_sent_at = utcnow()
    db.session.commit()
    return True


def send_already_subscribed(subscriber_id: int) -> bool:
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.status != SubscriberStatus.CONFIRMED:
        return False
    _send("already-subscribed", subscriber)
    return True


def send_erase_link(subscriber_id: int) -> bool:
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return False
    _send("erase", subscriber, erase_url=tokens.erase_url(subscriber.id, subscriber.token_nonce))
    return True


def send_manage_link(subscriber_id: int) -> bool:
    """A fresh link to the preference centre, asked for from an expired or day-old one."""
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return False
    _send("manage-link", subscriber, days=current_app.config["MANAGE_LINK_DAYS"])
    return True
