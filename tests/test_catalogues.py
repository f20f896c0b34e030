"""The translation catalogues are complete and compiled: every msgid the sources use (by
babel.cfg, as `pybabel extract` reads them) has a French translation, and each committed .mo
says what its .po says."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "newsletter" / "translations"
# The keywords of the extract command in babel.cfg's header.
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}

MsgId = str | tuple[str, ...]


def extracted_msgids() -> set[MsgId]:
    """What `pybabel extract -F babel.cfg` finds in the sources, through Babel's own API."""
    with (TRANSLATIONS / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: set[MsgId] = set()
    for _filename, _lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        key = message if isinstance(message, str) else tuple(message)
        found.add((context, key) if context else key)  # type: ignore[arg-type]
    return found


def catalogue(language: str) -> Catalog:
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=language)


def translated(message_string: object) -> bool:
    if isinstance(message_string, (tuple, list)):
        return all(message_string)
    return bool(message_string)


def test_every_msgid_of_the_sources_has_a_french_translation() -> None:
    french = catalogue("fr")
    missing = []
    for msgid in sorted(extracted_msgids(), key=str):
        singular = msgid[0] if isinstance(msgid, tuple) else msgid
        message = french.get(singular)
        if message is None or message.fuzzy or not translated(message.string):
            missing.append(singular)
    assert not missing, "msgids without a French translation (or fuzzy):\n" + "\n".join(
        f"  {msgid!r}" for msgid in missing
    )


def _messages(catalog: Catalog) -> Iterator[tuple[object, object]]:
    """(id, string) of what gettext would read: translated, non-fuzzy messages only."""
    for message in catalog:
        if message.id and not message.fuzzy and translated(message.string):
            msgid, string = message.id, message.string
            yield (
                tuple(msgid) if isinstance(msgid, (tuple, list)) else msgid,
                tuple(string) if isinstance(string, (tuple, list)) else string,
            )


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_committed_mo_is_compiled_from_its_po(language: str) -> None:
    in_memory = io.BytesIO()
    write_mo(in_memory, catalogue(language))
    in_memory.seek(0)
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo").open("rb") as mo:
        committed = dict(_messages(read_mo(mo)))
    expected = dict(_messages(read_mo(in_memory)))
    stale = sorted(
        str(msgid)
        for msgid in expected.keys() | committed.keys()
        if expected.get(msgid) != committed.get(msgid)
    )
    assert not stale, (
        f"{language}/messages.mo differs from its .po (run pybabel compile) for:\n"
        + "\n".join(f"  {msgid}" for msgid in stale)
    )
