"""The sender's domain, read once from MAIL_FROM, for Message-IDs, List-Id and DKIM.

One rule everywhere, so that a digest's Message-IDs, its List-Id and its DKIM `d=` name the
same domain as the confirmations do:

* the From is parsed as an address header (`email.utils.parseaddr`): a display name, angle
  brackets, a trailing comment or spaces, and a quoted local part holding an "@"
  (`"a@b"@example.org`) are all handled; the domain is what follows the last "@", since a
  domain never holds one;
* the domain comes back in its ASCII form, lower case: an internationalised domain
  (`exämple.org`) as IDNA 2008 A-labels with UTS #46 mapping (`xn--exmple-cua.org`), the
  form DNS and DKIM use and the only one allowed in a Message-ID header; a trailing dot is
  dropped; a domain literal (`[192.0.2.1]`) is kept as written;
* a From with no usable domain (empty, no "@", spaces or symbols in the domain) gives
  "localhost", as Message-IDs always did here: a message still goes out, with an id that is
  unique but names no domain. A plain ASCII name that is valid for DNS but not for public
  mail (`localhost`, an intranet host) is kept, lower case.
"""

from __future__ import annotations

import functools
import re
from email.utils import parseaddr

from email_validator import EmailNotValidError, validate_email

FALLBACK = "localhost"
_HOSTNAME = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")


@functools.lru_cache(maxsize=16)
def sender_domain(mail_from: str) -> str:
    """The ASCII, lower-case domain of a From header value; "localhost" when it has none."""
    address = parseaddr(mail_from)[1]
    if "@" not in address:
        return FALLBACK
    domain = address.rpartition("@")[2].strip().rstrip(".")
    if domain.startswith("[") and domain.endswith("]"):
        return domain
    try:
        # email-validator knows IDNA 2008 and UTS #46; the local part plays no role here.
        checked = validate_email(
            f"x@{domain}",
            check_deliverability=False,
            globally_deliverable=False,
            test_environment=True,
        )
    except EmailNotValidError:
        lowered = domain.lower()
        return lowered if _HOSTNAME.fullmatch(lowered) else FALLBACK
    return str(checked.ascii_domain)
