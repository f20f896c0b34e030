"""Ask the SMTP relay what a send would need, without sending: for `newsletter doctor`.

Connect, EHLO, STARTTLS when SMTP_URL asks for it, AUTH when it holds credentials, MAIL FROM
our envelope sender, then RSET and QUIT: no RCPT, no DATA, nothing leaves. Each step is one
`Step`; the first step that fails is the last one reported.
"""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
from dataclasses import dataclass

from newsletter.mail.smtp import SmtpSettings


@dataclass(frozen=True)
class Step:
    name: str  # "connect", "starttls", "auth", "mail-from"
    ok: bool
    detail: str
    warn: bool = False  # it works, but deserves a look (mail in clear over the network)
    # OpenSSL's reason when the relay's certificate did not verify ("self-signed certificate").
    unverified: str | None = None


def probe_relay(url: str, *, envelope_from: str, timeout: float = 10.0) -> list[Step]:
    """The steps of a send up to MAIL FROM, each with the relay's answer."""
    settings = SmtpSettings.from_url(url)
    where = f"{settings.host}:{settings.port}"
    context = ssl.create_default_context()
    try:
        if settings.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=timeout, context=context
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
        code, reply = client.ehlo()
    except (OSError, smtplib.SMTPException) as exc:
        return [Step("connect", False, f"cannot reach {where}: {exc}", unverified=_reason(exc))]
    try:
        return _session(client, settings, where, code, _text(reply), envelope_from, context)
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()


def _session(
    client: smtplib.SMTP,
    settings: SmtpSettings,
    where: str,
    code: int,
    greeting: str,
    envelope_from: str,
    context: ssl.SSLContext,
) -> list[Step]:
    if code != 250:
        return [Step("connect", False, f"{where} refused EHLO: {code} {greeting}")]
    name = greeting.splitlines()[0] if greeting else where
    steps = [Step("connect", True, f"{where} answers EHLO ({name})")]
    current = "starttls"
    try:
        if settings.starttls:
            if not client.has_extn("starttls"):
                steps.append(Step("starttls", False, f"{where} does not offer STARTTLS"))
                return steps
            client.starttls(context=context)
            client.ehlo()
            steps.append(Step("starttls", True, "STARTTLS offered, certificate verified"))
        elif not settings.ssl and not _loopback(settings.host):
            offered = "offered but not asked for" if client.has_extn("starttls") else "not offered"
            detail = f"mail crosses the network in clear (STARTTLS {offered}: add ?starttls=1)"
            steps.append(Step("starttls", True, detail, warn=True))
        current = "auth"
        if settings.username:
            if not client.has_extn("auth"):
                steps.append(Step("auth", False, f"{where} does not offer AUTH"))
                return steps
            client.login(settings.username, settings.password or "")
            steps.append(Step("auth", True, f"AUTH accepted for {settings.username}"))
        current = "mail-from"
        options = [] if envelope_from.isascii() else ["SMTPUTF8"]
        code, reply = client.mail(envelope_from, options)
        if code != 250:
            steps.append(Step("mail-from", False, f"{code} {_text(reply)}"))
            return steps
        steps.append(Step("mail-from", True, f"MAIL FROM:<{envelope_from}> accepted"))
        client.rset()
    except smtplib.SMTPResponseException as exc:
        steps.append(Step(current, False, f"{exc.smtp_code} {_text(exc.smtp_error)}"))
    except (OSError, smtplib.SMTPException) as exc:
        steps.append(Step(current, False, str(exc) or type(exc).__name__, unverified=_reason(exc)))
    return steps


def _reason(exc: Exception) -> str | None:
    """Why the certificate was refused, as OpenSSL says it; None for any other failure."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return str(exc.verify_message).rstrip(".")
    return None


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())
