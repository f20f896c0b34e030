"""The importer's English reasons, in the console's language.

The importer and csvsource speak to the command line's operator in English, and the report
keeps their words as written. Here each wording is read back (its variable parts as named
groups) and said again in the console's language, with what the console offers instead of
the command line's --encoding option. A wording not listed is shown as written.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

SPAN = re.compile(
    r"^(?P<reason>.*) \(the row runs over lines (?P<span>\d+-\d+)"
    r"(?P<hint>: a quote left open\?)?\)$"
)

_ROW_REASONS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"^malformed address$"), _l("malformed address")),
    (re.compile(r"^more fields than columns$"), _l("more fields than columns")),
    (re.compile(r"^NUL byte in a field$"), _l("NUL byte in a field")),
    (re.compile(r"^CR/LF in a field$"), _l("line break inside a field")),
    (
        re.compile(r"^address longer than (?P<n>\d+) characters$"),
        _l("address longer than %(n)s characters"),
    ),
    (
        re.compile(r"^name longer than (?P<n>\d+) characters$"),
        _l("name longer than %(n)s characters"),
    ),
    (re.compile(r"^unknown region (?P<value>.*)$", re.S), _l("unknown region %(value)s")),
    (re.compile(r"^no region$"), _l("no region")),
    (re.compile(r"^unknown language (?P<value>.*)$", re.S), _l("unknown language %(value)s")),
    (re.compile(r"^duplicate of line (?P<n>\d+)$"), _l("duplicate of line %(n)s")),
    (
        re.compile(r"^suppressed \(erased, bounced or complained\)$"),
        _l("blocked address (erased, bounced or complained): not added again"),
    ),
    (
        re.compile(r"^a field longer than (?P<n>\d+) characters$"),
        _l("a field longer than %(n)s characters"),
    ),
    (re.compile(r"^unreadable row: (?P<detail>.*)$", re.S), _l("unreadable row: %(detail)s")),
]

_FILE_ERRORS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"^the file is empty$"), _l("the file is empty.")),
    (
        re.compile(r"^no rows under the header line$"),
        _l("the file has no rows under its header line."),
    ),
    (
        re.compile(r"^not a CSV file: this is (?P<kind>.*)$"),
        _l("this is not a CSV file (%(kind)s). Export the list as CSV and upload that file."),
    ),
    (
        re.compile(r"^the file is in UTF-16"),
        _l("the file is in UTF-16: choose the encoding UTF-16 and upload it again."),
    ),
    (
        re.compile(r"^NUL bytes in the header line"),
        _l(
            "the header line holds NUL bytes: a binary file, or UTF-16 text (then choose the"
            " encoding UTF-16)."
        ),
    ),
    (
        re.compile(r"^line (?P<line>\d+): not valid (?P<codec>\S+) \(byte (?P<byte>0x[0-9a-f]+)\)"),
        _l(
            "line %(line)s is not valid %(codec)s (byte %(byte)s): choose the file's encoding,"
            " e.g. Windows (cp1252) for Excel on Windows, or Latin-1."
        ),
    ),
    (
        re.compile(r"^no 'email' column; the header line has (?P<names>.*) \(the first line"),
        _l(
            "the file has no “email” column; its header line has %(names)s. The first line"
            " must name the columns: email, name, regions, language."
        ),
    ),
    (
        re.compile(r"^line (?P<line>\d+): the header line holds a field longer than (?P<n>\d+)"),
        _l("line %(line)s: the header line holds a field longer than %(n)s characters."),
    ),
    (
        re.compile(r"^line (?P<line>\d+): the header line holds unreadable row: (?P<detail>.*)$"),
        _l("line %(line)s: the header line cannot be read (%(detail)s)."),
    ),
    (
        re.compile(r"^line (?P<line>\d+): a quote left open in the header line$"),
        _l("line %(line)s: a quote is left open in the header line."),
    ),
    (
        re.compile(
            r"^the header names the column (?P<name>'.*') twice"
            r" \(columns (?P<a>\d+) and (?P<b>\d+)\)"
        ),
        _l(
            "the header names the column %(name)s twice (columns %(a)s and %(b)s): which one"
            " holds the data is ambiguous. Nothing was imported."
        ),
    ),
    (
        re.compile(r"^line (?P<line>\d+): the file changed while it was read$"),
        _l("line %(line)s: the file changed while it was read."),
    ),
    (re.compile(r"^the uploaded file was not kept$"), _l("the uploaded file was not kept.")),
    (re.compile(r"^unknown encoding (?P<value>.*)$"), _l("unknown encoding %(value)s.")),
]


# csvsource's names for the files people pick instead of a CSV export.
_KINDS = {
    "a PNG image": _l("a PNG image"),
    "a JPEG image": _l("a JPEG image"),
    "a GIF image": _l("a GIF image"),
    "a PDF document": _l("a PDF document"),
    "a gzip archive": _l("a gzip archive"),
    "a ZIP archive (an .xlsx or .ods workbook? export it as CSV)": _l(
        "a ZIP archive: an .xlsx or .ods workbook?"
    ),
    "an Excel .xls workbook (export it as CSV)": _l("an Excel .xls workbook"),
}


def _reworded(text: str, table: list[tuple[re.Pattern[str], Any]]) -> str | None:
    for pattern, message in table:
        match = pattern.match(text)
        if match:
            values = match.groupdict()
            if "kind" in values:
                values["kind"] = str(_KINDS.get(values["kind"], values["kind"]))
            return str(message) % values if values else str(message)
    return None


def rejection_reason(reason: str) -> str:
    """A rejected row's reason, with the lines it spans when it runs over several."""
    span = SPAN.match(reason)
    core = span.group("reason") if span else reason
    said = _reworded(core, _ROW_REASONS) or core
    if span is None:
        return said
    if span.group("hint"):
        return _("%(reason)s (the row runs over lines %(span)s: a quote left open?)") % {
            "reason": said,
            "span": span.group("span"),
        }
    return _("%(reason)s (the row runs over lines %(span)s)") % {
        "reason": said,
        "span": span.group("span"),
    }


def file_error(error: str) -> str:
    """Why a file was refused whole, said for the console."""
    return _reworded(error, _FILE_ERRORS) or error


def is_known_reason(reason: str) -> bool:
    """Whether the console has words of its own for this reason (the tests walk them all)."""
    span = SPAN.match(reason)
    return _reworded(span.group("reason") if span else reason, _ROW_REASONS) is not None


def is_known_file_error(error: str) -> bool:
    return _reworded(error, _FILE_ERRORS) is not None
