"""The SMTP relay asked what a send would need, up to MAIL FROM: nothing is sent."""

from __future__ import annotations

from email.utils import parseaddr
from typing import Any

from newsletter.doctor.report import Check, fail, ok, warning
from newsletter.mail.probe import Step, probe_relay
from newsletter.mail.smtp import SmtpSettings

_NAMES = {
    "connect": "SMTP relay",
    "starttls": "SMTP STARTTLS",
    "auth": "SMTP AUTH",
    "mail-from": "SMTP MAIL FROM",
}
_FIXES = {
    "connect": "check SMTP_URL's host and port, and that this machine may reach them",
    "starttls": "use smtps:// or a relay port that offers STARTTLS",
    "auth": "check the user and password in SMTP_URL",
    "mail-from": "ask the relay to accept our envelope sender, or set SEND_RETURN_PATH",
}


def envelope_sender(config: Any) -> str:
    """MAIL FROM as the sender uses it: SEND_RETURN_PATH, else the From address."""
    return str(config.get("SEND_RETURN_PATH") or parseaddr(config["MAIL_FROM"])[1])


def check_relay(config: Any) -> list[Check]:
    steps = probe_relay(
        config["SMTP_URL"],
        envelope_from=envelope_sender(config),
        timeout=min(float(config.get("SEND_SMTP_TIMEOUT") or 10.0), 10.0),
    )
    checks = []
    for step in steps:
        name = _NAMES[step.name]
        if not step.ok:
            checks.append(_failed(name, step, SmtpSettings.from_url(config["SMTP_URL"])))
        elif step.warn:
            checks.append(warning(name, step.detail))
        else:
            checks.append(ok(name, step.detail))
    return checks


def _failed(name: str, step: Step, settings: SmtpSettings) -> Check:
    if step.unverified is None:
        return fail(name, step.detail, _FIXES[step.name])
    # A refused certificate is neither a wrong port nor a missing STARTTLS: say which
    # certificate, why OpenSSL refused it, and what would make it pass, verification kept.
    where = f"{settings.host}:{settings.port}"
    return fail(
        name,
        f"the certificate of {where} does not verify: {step.unverified}",
        f"give the relay a certificate for {settings.host} from an authority this machine "
        "trusts; a private authority goes into the system's trust store (or the file "
        "SSL_CERT_FILE names)",
    )
