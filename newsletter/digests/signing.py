"""DKIM signatures (RFC 6376, rsa-sha256, relaxed/relaxed) made with OpenSSL.

dkimpy's pure-Python RSA takes about 15 ms a message; a digest signs one per reader. Here
the key is loaded once and OpenSSL signs; canonicalization is a few regular expressions.
dkimpy stays the verifier in the tests.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Sequence

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

_WSP = re.compile(rb"[ \t]+")
_TRAILING_WSP = re.compile(rb"[ \t]+\r\n")
_FOLD = re.compile(rb"\r\n(?=[ \t])")


class DkimSigner:
    def __init__(
        self, *, private_key_pem: bytes, selector: str, domain: str, headers: Sequence[str]
    ) -> None:
        key = serialization.load_pem_private_key(private_key_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the DKIM key must be an RSA private key")
        self._key = key
        self._selector = selector
        self._domain = domain
        self._headers = [h.lower() for h in headers]

    def signature_header(self, message: bytes) -> bytes:
        """The DKIM-Signature header line (with CRLF) to put in front of `message`."""
        head, _, body = message.partition(b"\r\n\r\n")
        fields = _header_fields(head)
        signed: list[bytes] = []
        names: list[str] = []
        for name in self._headers:
            # The last instance of a header is the one a verifier takes first.
            for index in range(len(fields) - 1, -1, -1):
                if fields[index][0] == name:
                    signed.append(_relaxed_header(fields.pop(index)[1]))
                    names.append(name)
                    break
        body_hash = base64.b64encode(hashlib.sha256(_relaxed_body(body)).digest()).decode()
        value = (
            f"v=1; a=rsa-sha256; c=relaxed/relaxed; d={self._domain}; s={self._selector};"
            f" t={int(time.time())}; h={':'.join(names)}; bh={body_hash}; b="
        )
        unsigned = _relaxed_header(b"DKIM-Signature: " + value.encode("ascii"))
        data = b"".join(signed) + unsigned.removesuffix(b"\r\n")
        signature = self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return f"DKIM-Signature: {value}{base64.b64encode(signature).decode()}\r\n".encode()


def _header_fields(head: bytes) -> list[tuple[str, bytes]]:
    """(lower-case name, whole raw field) for each header, folded lines kept together."""
    fields: list[tuple[str, bytes]] = []
    for field in re.split(rb"\r\n(?![ \t])", head):
        if field:
            fields.append((field.split(b":", 1)[0].strip().lower().decode("ascii"), field))
    return fields


def _relaxed_header(field: bytes) -> bytes:
    name, _, value = field.partition(b":")
    value = _WSP.sub(b" ", _FOLD.sub(b"", value)).strip(b" \t\r\n")
    return name.strip().lower() + b":" + value + b"\r\n"


def _relaxed_body(body: bytes) -> bytes:
    body = _TRAILING_WSP.sub(b"\r\n", _WSP.sub(b" ", body))
    body = body.rstrip(b" \t\r\n")
    return body + b"\r\n" if body else b""
