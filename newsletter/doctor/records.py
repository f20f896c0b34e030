"""TXT records asked of DNS (dnspython): the servers of DOCTOR_NAMESERVERS, else the system's."""

from __future__ import annotations

from collections.abc import Sequence

import dns.exception
import dns.nameserver
import dns.resolver


class DnsUnavailable(Exception):
    """DNS gave no verdict (timeout, SERVFAIL, no resolver): the record may well exist."""


class TxtLookup:
    """TXT strings of a name, each record's strings joined, asked once per name."""

    def __init__(self, nameservers: Sequence[tuple[str, int]] = (), *, timeout: float = 5.0):
        self._nameservers = list(nameservers)
        self._timeout = timeout
        self._resolver: dns.resolver.Resolver | None = None
        self._answers: dict[str, list[str] | DnsUnavailable] = {}

    def txt(self, name: str) -> list[str]:
        """The TXT records at `name`; [] when the name or its TXT is absent."""
        if name not in self._answers:
            try:
                self._answers[name] = self._ask(name)
            except DnsUnavailable as exc:
                self._answers[name] = exc
        answer = self._answers[name]
        if isinstance(answer, DnsUnavailable):
            raise answer
        return answer

    def _ask(self, name: str) -> list[str]:
        resolver = self._get_resolver()
        try:
            answer = resolver.resolve(name, "TXT", raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            return []
        except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
            raise DnsUnavailable(f"no answer for {name} TXT: {exc}") from None
        except dns.exception.DNSException as exc:
            raise DnsUnavailable(f"{name} TXT: {exc}") from None
        if answer.rrset is None:
            return []
        # A record longer than 255 bytes comes as several strings, read as one.
        return [
            b"".join(rdata.strings).decode("utf-8", "replace")  # type: ignore[attr-defined]
            for rdata in answer.rrset
        ]

    def _get_resolver(self) -> dns.resolver.Resolver:
        if self._resolver is None:
            try:
                resolver = dns.resolver.Resolver(configure=not self._nameservers)
            except dns.resolver.NoResolverConfiguration as exc:
                raise DnsUnavailable(f"no DNS resolver configured: {exc}") from None
            if self._nameservers:
                resolver.nameservers = [
                    dns.nameserver.Do53Nameserver(address, port)
                    for address, port in self._nameservers
                ]
            resolver.lifetime = self._timeout
            self._resolver = resolver
        return self._resolver


def tags(record: str) -> dict[str, str]:
    """`v=DKIM1; k=rsa; p=MIIB...` as {tag: value}, lower-case tags, spaces removed."""
    found: dict[str, str] = {}
    for part in record.split(";"):
        tag, sep, value = part.partition("=")
        if sep:
            found.setdefault(tag.strip().lower(), "".join(value.split()))
    return found
