"""SPF and DMARC records of the sending domains, read from DNS."""

from __future__ import annotations

from newsletter.doctor.domains import organizational_domain
from newsletter.doctor.records import DnsUnavailable, TxtLookup, tags
from newsletter.doctor.report import Check, fail, ok, warning


def check_spf(envelope_domain: str, lookup: TxtLookup) -> Check:
    """A v=spf1 record exists and ends with a policy; whether it names the relay we cannot
    know from here (the relay's outgoing address is not in SMTP_URL), so it is only said."""
    name = "SPF"
    example = f'publish {envelope_domain} TXT "v=spf1 include:<the relay\'s SPF domain> -all"'
    try:
        records = [r for r in lookup.txt(envelope_domain) if _is_spf(r)]
    except DnsUnavailable as exc:
        return warning(name, f"DNS did not answer: {exc}", "run the doctor again")
    if not records:
        return fail(name, f"no SPF record (TXT v=spf1) at {envelope_domain}", example)
    if len(records) > 1:
        return fail(
            name,
            f"{len(records)} SPF records at {envelope_domain}: receivers treat that as an error",
            "merge them into one",
        )
    terms = records[0].split()[1:]
    senders = [t for t in terms if t.lstrip("+~?-").split(":")[0] in _SENDERS]
    ending = next((t for t in terms if t.lstrip("+~?-") == "all" or t.startswith("redirect=")), "")
    if ending in {"all", "+all"}:
        return fail(name, f"{envelope_domain} ends with {ending}: anyone may send as us", example)
    said = f"{envelope_domain}: {', '.join(senders) or 'no sender named'}"
    if not ending:
        return warning(name, f"{said}, no 'all' at the end", "end the record with ~all or -all")
    return ok(name, f"{said}, {ending}; make sure it covers the relay's outgoing addresses")


_SENDERS = {"include", "a", "mx", "ip4", "ip6", "exists", "ptr"}


def _is_spf(record: str) -> bool:
    return record.lower() == "v=spf1" or record.lower().startswith("v=spf1 ")


def check_dmarc(from_domain: str, dkim_domain: str | None, lookup: TxtLookup) -> Check:
    """_dmarc.<From domain> (or of its organisational domain, as receivers look it up) with
    v=DMARC1 and p=."""
    name = "DMARC"
    first = f"_dmarc.{from_domain}"
    example = f'publish {first} TXT "v=DMARC1; p=none; rua=mailto:dmarc@{from_domain}"'
    try:
        where, records = _dmarc_records(from_domain, lookup)
    except DnsUnavailable as exc:
        return warning(name, f"DNS did not answer: {exc}", "run the doctor again")
    if not records:
        return fail(name, f"no DMARC record at {first}", example)
    if len(records) > 1:
        return fail(
            name, f"{len(records)} DMARC records at {where}: receivers ignore them all", "keep one"
        )
    found = tags(records[0])
    policy = found.get("p", "").lower()
    if where != first:
        policy = found.get("sp", policy).lower()
    if policy not in {"none", "quarantine", "reject"}:
        return fail(name, f"{where} has no valid p= policy: {records[0]}", example)
    if found.get("adkim", "r").lower() == "s" and dkim_domain and dkim_domain != from_domain:
        return fail(
            name,
            f"{where} asks strict DKIM alignment (adkim=s) but DKIM signs as d={dkim_domain}",
            f"set DKIM_DOMAIN to {from_domain}, or adkim=r",
        )
    if policy == "none":
        return warning(
            name,
            f"{where}: p=none, monitoring only; receivers act on nothing",
            "move to p=quarantine once the reports show only our mail",
        )
    return ok(name, f"{where}: p={policy}")


def _dmarc_records(from_domain: str, lookup: TxtLookup) -> tuple[str, list[str]]:
    """The From domain's record, else its organisational domain's, as receivers look it up
    (RFC 7489 §6.6.3): never a public suffix's, nor the names in between."""
    names = dict.fromkeys((from_domain, organizational_domain(from_domain)))
    for name in names:
        where = f"_dmarc.{name}"
        records = [
            r for r in lookup.txt(where) if r.replace(" ", "").upper().startswith("V=DMARC1")
        ]
        if records:
            return where, records
    return f"_dmarc.{from_domain}", []
