"""DKIM: the signing domain aligned with the From, the key valid, its public half in DNS."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from newsletter.digests.signing import DkimSigner
from newsletter.doctor.domains import organizational_domain, relaxed_aligned
from newsletter.doctor.records import DnsUnavailable, TxtLookup, tags
from newsletter.doctor.report import Check, fail, ok, warning
from newsletter.mail.domain import sender_domain


@dataclass(frozen=True)
class Signing:
    selector: str
    key_path: str
    domain: str  # d=

    @property
    def record_name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}"


def signing_of(config: Any) -> Signing | None:
    """How digests are signed, as compose.py signs them; None when signing is off."""
    selector, key_path = config.get("DKIM_SELECTOR"), config.get("DKIM_PRIVATE_KEY_PATH")
    if not (selector and key_path):
        return None
    domain = config.get("DKIM_DOMAIN") or sender_domain(config["MAIL_FROM"])
    return Signing(selector=selector, key_path=key_path, domain=domain)


def check_alignment(from_domain: str, signing: Signing | None) -> Check:
    name = "DKIM domain"
    if signing is None:
        return warning(
            name,
            "signing is off: receivers see unsigned mail (Gmail and Yahoo require DKIM in bulk)",
            "set DKIM_SELECTOR and DKIM_PRIVATE_KEY_PATH (or let the relay sign for the domain)",
        )
    if signing.domain == from_domain:
        return ok(name, f"d={signing.domain}, the From domain")
    if relaxed_aligned(from_domain, signing.domain):
        return ok(
            name,
            f"d={signing.domain} aligns with From {from_domain} under DMARC's relaxed alignment "
            "(a DMARC record with adkim=s would not accept it)",
        )
    organisation = organizational_domain(from_domain)
    others = "a name under it" if organisation == from_domain else f"a name under {organisation}"
    return fail(
        name,
        f"DKIM signs as d={signing.domain} but mail is From {from_domain}: DMARC fails on DKIM",
        f"set DKIM_DOMAIN to {from_domain} (or {others}), or change MAIL_FROM",
    )


def public_key(pem: bytes) -> tuple[str, int]:
    """The key's public half as DKIM's p= (base64 SubjectPublicKeyInfo), and its size."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA key (DKIM here signs rsa-sha256)")
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii"), key.key_size


def txt_value(p: str) -> str:
    return f"v=DKIM1; k=rsa; p={p}"


def check_key(signing: Signing) -> tuple[Check, str | None]:
    """The key file read and loaded the way the signer loads it; p= when it is usable."""
    name = "DKIM key"
    fix = "point DKIM_PRIVATE_KEY_PATH at a PEM RSA private key of 2048 bits"
    try:
        pem = Path(signing.key_path).read_bytes()
    except OSError as exc:
        return fail(name, f"cannot read {signing.key_path}: {exc.strerror}", fix), None
    try:
        DkimSigner(private_key_pem=pem, selector=signing.selector, domain="x", headers=["from"])
        p, bits = public_key(pem)
    except (ValueError, TypeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return fail(name, f"{signing.key_path} is not a usable private key: {reason}", fix), None
    publish = f'publish {signing.record_name} TXT "{txt_value(p)}"'
    if bits < 1024:
        return fail(name, f"{bits}-bit RSA: receivers ignore signatures this weak", fix), p
    if bits < 2048:
        return warning(name, f"{bits}-bit RSA, weaker than the 2048 bits advised; {publish}"), p
    return ok(name, f"{bits}-bit RSA in {signing.key_path}; {publish}"), p


def check_published(signing: Signing, p: str | None, lookup: TxtLookup) -> Check:
    """The TXT at <selector>._domainkey.<d> carries the public half of our key."""
    name, where = "DKIM record", signing.record_name
    publish = f'publish {where} TXT "{txt_value(p)}"' if p else "fix the DKIM key first"
    try:
        records = [r for r in lookup.txt(where) if "p=" in r.replace(" ", "")]
    except DnsUnavailable as exc:
        return warning(name, f"DNS did not answer: {exc}", "run the doctor again")
    if not records:
        return fail(name, f"no DKIM key at {where}: receivers cannot verify our mail", publish)
    if len(records) > 1:
        return fail(name, f"{len(records)} DKIM keys at {where}: verifiers fail", publish)
    found = tags(records[0])
    if found.get("k", "rsa").lower() != "rsa":
        return fail(name, f"{where} says k={found['k']}, our key is RSA", publish)
    if not found.get("p"):
        return fail(name, f"{where} has an empty p=: the key is revoked", publish)
    if p is None:
        return warning(name, f"a key is published at {where}; ours could not be read", publish)
    if not _same_key(found["p"], p):
        return fail(
            name, f"the key at {where} is not our key's public half: signatures fail", publish
        )
    return ok(name, f"{where} holds our public key")


def _same_key(published: str, ours: str) -> bool:
    if published == ours:
        return True
    try:  # the same key written otherwise (PKCS#1 rather than SubjectPublicKeyInfo)
        theirs = serialization.load_der_public_key(base64.b64decode(published))
        mine = serialization.load_der_public_key(base64.b64decode(ours))
    except ValueError:
        return False
    if not isinstance(theirs, rsa.RSAPublicKey) or not isinstance(mine, rsa.RSAPublicKey):
        return False
    return theirs.public_numbers() == mine.public_numbers()
