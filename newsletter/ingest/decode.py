"""Feed bytes to well-labelled UTF-8: the charset a feed declares is often wrong or missing."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_XML_DECLARATION = re.compile(rb"^(\s*<\?xml[^>]*?encoding\s*=\s*[\"'])([A-Za-z0-9._:-]+)([\"'])")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
# Latin-1 as labelled on the web is Windows-1252 (curly quotes, €, œ live in 0x80-0x9f).
_WEB_ALIASES = {"latin-1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252"}
# What a French publication without a declared charset most likely wrote in, when not UTF-8.
LEGACY_ENCODING = "cp1252"


@dataclass(frozen=True)
class Decoded:
    document: bytes  # UTF-8, with an XML declaration that says so
    encoding: str  # what the bytes were read as
    problem: str | None  # the declared charset was wrong or missing: for the editors


def declared_encoding(document: bytes, content_type: str | None) -> str | None:
    """The charset label as declared; the HTTP one wins over the XML declaration (RFC 7303)."""
    found = _CHARSET.search(content_type or "")
    if found:
        return found.group(1)
    declaration = _XML_DECLARATION.match(document[:500])
    return declaration.group(2).decode("ascii") if declaration else None


def to_utf8(document: bytes, *, content_type: str | None = None) -> Decoded:
    """Decode by what the bytes are, not only by what they claim; say when they disagree."""
    if document.startswith(codecs.BOM_UTF8):
        document = document[len(codecs.BOM_UTF8) :]
    label = declared_encoding(document, content_type)
    declared = _codec(label) if label else None
    text, actual = _decode(document, declared)
    problem = None
    if declared is None and actual != "utf-8":
        problem = f"no known encoding declared and the content is not UTF-8; read as {actual}"
    elif declared is not None and actual != declared:
        problem = f"declared encoding {label} does not match the content; read as {actual}"
    return Decoded(document=_relabel(text.encode("utf-8")), encoding=actual, problem=problem)


def _decode(document: bytes, declared: str | None) -> tuple[str, str]:
    try:
        text = document.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        # Non-ASCII bytes that happen to be valid UTF-8 are UTF-8 (Latin text almost never is).
        is_ascii = document.isascii()
        return text, declared if is_ascii and declared else "utf-8"
    if declared and declared != "utf-8":
        try:
            return document.decode(declared), declared
        except UnicodeDecodeError:
            pass
    return document.decode(LEGACY_ENCODING, errors="replace"), LEGACY_ENCODING


def _codec(label: str) -> str | None:
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _WEB_ALIASES.get(name, name)


def _relabel(document: bytes) -> bytes:
    if _XML_DECLARATION.match(document[:500]):
        return _XML_DECLARATION.sub(rb"\g<1>utf-8\g<3>", document, count=1)
    return document
