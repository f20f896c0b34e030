"""Cells a spreadsheet would run as a formula (CSV injection), neutralised on the way out and
restored on the way in, so that an export imported again gives the same readers.

A cell starting with = + - @ (or a tab or carriage return, which some spreadsheets skip
before looking) gets a leading apostrophe: the spreadsheet shows it as text. The importer
drops that apostrophe again when it stands before one of those characters.
"""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def plain_cell(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) else value
