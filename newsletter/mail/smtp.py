"""Low-volume SMTP: one message per connection, built from SMTP_URL, with typed outcomes.

With `pipelined.py` (bulk digests over one kept connection) this package is the only code
that speaks SMTP; `tests/test_mail_port.py` checks that nothing else imports smtplib.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit


class TemporaryFailure(Exception):
    """4xx or a lost connection before the message was handed over: try again later."""


class PermanentFailure(Exception):
    """5xx: the relay refused this message for good."""

    def __init__(self, code: int, reply: str) -> None:
        super().__init__(f"{code} {reply}")
        self.code = code
        self.reply = reply


class LoginRefused(PermanentFailure):
    """The relay refused our AUTH: no message will go through until SMTP_URL is fixed."""


class Sender(Protocol):
    def send(self, message: EmailMessage) -> str:
        """Hand one message over; returns the server's reply, raises on failure."""
        ...


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    ssl: bool
    starttls: bool
    username: str | None
    password: str | None
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        use_ssl = parts.scheme == "smtps"
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (465 if use_ssl else 25),
            ssl=use_ssl,
            starttls=query.get("starttls", ["0"])[0] in {"1", "true", "yes"},
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def connect(settings: SmtpSettings) -> smtplib.SMTP:
    """An open, authenticated connection; TemporaryFailure if the relay cannot be reached."""
    context = ssl.create_default_context()
    try:
        if settings.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=context
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    except (OSError, smtplib.SMTPException) as exc:
        raise TemporaryFailure(f"cannot reach {settings.host}:{settings.port}: {exc}") from exc
    try:
        client.ehlo()
        if settings.starttls:
            client.starttls(context=context)
            client.ehlo()
        if settings.username:
            client.login(settings.username, settings.password or "")
    except smtplib.SMTPAuthenticationError as exc:
        client.close()  # the socket is open: a refused login must not leave it behind
        raise LoginRefused(exc.smtp_code, _text(exc.smtp_error)) from exc
    except (OSError, smtplib.SMTPException) as exc:
        client.close()
        raise TemporaryFailure(f"cannot reach {settings.host}:{settings.port}: {exc}") from exc
    return client


class SmtpSender:
    """One message per call over a fresh connection: for low-volume mail (confirmations)."""

    def __init__(self, url: str) -> None:
        self.settings = SmtpSettings.from_url(url)

    def send(self, message: EmailMessage) -> str:
        return self._transaction(lambda client: client.send_message(message))

    def send_raw(self, envelope_from: str, rcpt: str, data: bytes) -> str:
        """Hand over bytes already built (a digest as readers get it), envelope as given."""
        # A non-ASCII mailbox needs SMTPUTF8; without it smtplib cannot even write the command.
        options = [] if f"{envelope_from}{rcpt}".isascii() else ["SMTPUTF8"]
        return self._transaction(
            lambda client: client.sendmail(envelope_from, [rcpt], data, mail_options=options)
        )

    def _transaction(
        self, hand_over: Callable[[smtplib.SMTP], dict[str, tuple[int, bytes]]]
    ) -> str:
        client = connect(self.settings)
        try:
            refused = hand_over(client)
            if refused:
                code, reply = next(iter(refused.values()))
                raise _failure(code, _text(reply))
            return "250 OK"
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise _failure(code, _text(reply)) from exc
        except smtplib.SMTPResponseException as exc:
            raise _failure(exc.smtp_code, _text(exc.smtp_error)) from exc
        except smtplib.SMTPNotSupportedError as exc:
            # A non-ASCII mailbox and a relay without SMTPUTF8: retrying changes nothing.
            raise PermanentFailure(553, f"the relay does not offer SMTPUTF8: {exc}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(str(exc)) from exc
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()


def _failure(code: int, reply: str) -> Exception:
    return PermanentFailure(code, reply) if code >= 500 else TemporaryFailure(f"{code} {reply}")


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
