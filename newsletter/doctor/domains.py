"""DMARC's organisational domain (RFC 7489 §3.2): the public suffix and one label more, read
from the public suffix list that publicsuffixlist bundles (no download at run time)."""

from __future__ import annotations

from functools import lru_cache

from publicsuffixlist import PublicSuffixList


@lru_cache(maxsize=1)
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # parses the bundled list once: a few tens of milliseconds


def organizational_domain(domain: str) -> str:
    """news.example.co.uk -> example.co.uk; a public suffix itself stays as it is."""
    domain = domain.lower().rstrip(".")
    return _suffixes().privatesuffix(domain) or domain


def relaxed_aligned(from_domain: str, dkim_domain: str) -> bool:
    """DMARC's relaxed alignment: both domains have the same organisational domain."""
    return organizational_domain(from_domain) == organizational_domain(dkim_domain)
