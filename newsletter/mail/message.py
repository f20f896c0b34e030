"""Building MIME messages: multipart/alternative, text first, UTF-8, no header injection."""

from __future__ import annotations

from collections.abc import Mapping
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTPUTF8
from email.utils import format_datetime, make_msgid

from newsletter.mail.domain import sender_domain
from newsletter.mail.render import RenderedEmail, one_line
from newsletter.models import utcnow


def build_message(
    rendered: RenderedEmail,
    *,
    to: str,
    mail_from: str,
    reply_to: str = "",
    message_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    if to.isascii():
        message = EmailMessage()
        message["Subject"] = one_line(rendered.subject)
        message["From"] = mail_from
        message["To"] = Address(addr_spec=to)
    else:
        # A non-ASCII mailbox (accepted only when SMTP_UTF8 says the relay speaks SMTPUTF8):
        # the header is raw UTF-8, which Address() refuses to build.
        message = EmailMessage(policy=SMTPUTF8)
        message["Subject"] = one_line(rendered.subject)
        message["From"] = mail_from
        message["To"] = one_line(to)
    if reply_to:
        message["Reply-To"] = reply_to
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = message_id or make_msgid(domain=sender_domain(mail_from))
    for name, value in (headers or {}).items():
        message[name] = one_line(value)
    message.set_content(rendered.text, subtype="plain", charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    return message
