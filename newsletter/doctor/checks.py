"""Every check, in the order a sender's setup is built: addresses, DKIM, DNS, relay, links."""

from __future__ import annotations

from email.utils import parseaddr
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from newsletter.doctor import dkim, policy, relay
from newsletter.doctor.links import check_unsubscribe_link
from newsletter.doctor.records import TxtLookup
from newsletter.doctor.report import Check, Verdict, fail, ok
from newsletter.mail.domain import FALLBACK, sender_domain


def local_checks(config: Any) -> list[Check]:
    """The checks that read only the settings and the key file: blocking in production."""
    from_domain = sender_domain(config["MAIL_FROM"])
    signing = dkim.signing_of(config)
    checks = [check_from(config["MAIL_FROM"]), dkim.check_alignment(from_domain, signing)]
    if signing is not None:
        checks.append(dkim.check_key(signing)[0])
    checks.append(check_base_url(config["BASE_URL"], config["NEWSLETTER_ENV"]))
    return checks


def all_checks(config: Any, *, lookup: TxtLookup | None = None) -> list[Check]:
    """Every check; the DNS ones ask DOCTOR_NAMESERVERS. Needs an app context (links)."""
    lookup = lookup or TxtLookup(config.get("DOCTOR_NAMESERVERS") or ())
    from_domain = sender_domain(config["MAIL_FROM"])
    signing = dkim.signing_of(config)
    checks = [check_from(config["MAIL_FROM"]), dkim.check_alignment(from_domain, signing)]
    if signing is not None:
        key_check, p = dkim.check_key(signing)
        checks += [key_check, dkim.check_published(signing, p, lookup)]
    envelope_domain = sender_domain(relay.envelope_sender(config))
    checks.append(policy.check_spf(envelope_domain, lookup))
    checks.append(policy.check_dmarc(from_domain, signing.domain if signing else None, lookup))
    checks.append(check_base_url(config["BASE_URL"], config["NEWSLETTER_ENV"]))
    checks += relay.check_relay(config)
    checks.append(check_unsubscribe_link())
    return checks


def blocking_failures(config: Any) -> list[Check]:
    """In production, the local checks that fail; elsewhere none (a laptop may send as it can)."""
    if config["NEWSLETTER_ENV"] != "production":
        return []
    return [check for check in local_checks(config) if check.verdict is Verdict.FAIL]


def check_from(mail_from: str) -> Check:
    address = parseaddr(mail_from)[1]
    domain = sender_domain(mail_from)
    if domain == FALLBACK:
        return fail(
            "From address",
            f"MAIL_FROM {mail_from!r} has no usable domain",
            "set MAIL_FROM to 'Name <newsletter@your-domain>'",
        )
    return ok("From address", f"{address} (domain {domain})")


def check_base_url(base_url: str, environment: str) -> Check:
    name = "BASE_URL"
    parts = urlsplit(base_url)
    if environment != "production":
        return ok(name, f"{base_url} (https is required once NEWSLETTER_ENV=production)")
    if parts.scheme != "https":
        return fail(
            name,
            f"{base_url} is not https: readers' links would go in clear, and mailbox providers "
            "expect https one-click unsubscribe links",
            "set BASE_URL to the site's https:// address",
        )
    if _local(parts.hostname or ""):
        return fail(
            name,
            f"{base_url} names this machine: readers cannot reach it",
            "set BASE_URL to the public https:// address",
        )
    return ok(name, base_url)


def _local(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False
