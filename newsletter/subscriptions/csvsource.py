"""Reading a list to import: its encoding, delimiter and header, then its rows by line number.

Whatever makes the file unusable as a whole (empty, binary, another encoding, an ambiguous
header) is found by `inspect` before the first row is written, so such a file imports nobody.
Whatever is wrong with one row is left to the importer, which rejects that row alone.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

from newsletter.subscriptions.spreadsheet import plain_cell

COLUMNS = ("email", "name", "regions", "language")
# The header line decides: a comma file's regions column holds `slug;slug` in its rows.
DELIMITERS = (",", ";", "\t")
# What people pick by mistake instead of the CSV export; NULs give most other binaries away.
SIGNATURES = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"PK\x03\x04", "a ZIP archive (an .xlsx or .ods workbook? export it as CSV)"),
    (b"\xd0\xcf\x11\xe0", "an Excel .xls workbook (export it as CSV)"),
)
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
SHOWN_NAMES = 10


class ImportFileError(Exception):
    """The file as a whole cannot be imported; the message is one line for the operator."""


@dataclass(frozen=True)
class Source:
    """A file that passed `inspect`: how to decode and split it, and where its columns are."""

    path: Path
    codec: str
    delimiter: str
    header_line: int
    columns: dict[str, int]
    width: int
    ignored: tuple[str, ...]
    last_line: int

    @property
    def data_lines(self) -> int:
        return self.last_line - self.header_line


class Record(NamedTuple):
    """One CSV row: the lines it covers (a quoted field may span several), its fields, or
    why it could not be read at all. A tuple: there is one per row of a 100,000-row file."""

    line: int
    last_line: int
    fields: list[str]
    problem: str | None = None


def inspect(path: Path, encoding: str = "utf-8") -> Source:
    """Check the file as a whole in one pass: it must decode, and its header must be clear."""
    codec = _codec(encoding)
    try:
        with path.open("rb") as handle:
            _check_signature(handle.read(8), codec)
            handle.seek(0)
            lines = _decoded_lines(handle, codec)
            header_line, header = next(
                ((n, t) for n, t in lines if t.strip("\ufeff \t\r\n")), (0, "")
            )
            header = header.lstrip("\ufeff")
            if not header_line:
                raise ImportFileError("the file is empty")
            # Old Mac files end lines with a lone CR: then this "line" is the whole file.
            header, _, after = header.rstrip("\r\n").partition("\r")
            delimiter, names = _split_header(header, header_line)
            last_line, has_rows = _rest(lines, header_line, delimiter)
            has_rows = has_rows or bool(after.strip(f' \t\r\n"{delimiter}'))
    except OSError as exc:
        raise ImportFileError(f"cannot read the file: {exc.strerror or exc}") from None
    if not has_rows:
        raise ImportFileError("no rows under the header line")
    return Source(
        path=path,
        codec=codec,
        delimiter=delimiter,
        header_line=header_line,
        columns=_columns(names),
        width=len(names),
        ignored=_ignored(names),
        last_line=last_line,
    )


def _rest(lines: Iterator[tuple[int, str]], header_line: int, delimiter: str) -> tuple[int, bool]:
    """The number of the last line, and whether any line under the header holds something
    (spreadsheets export empty rows as a line of delimiters)."""
    last, has_rows, blank = header_line, False, f' \t\r\n"{delimiter}'
    for number, text in lines:
        last, has_rows = number, has_rows or bool(text.strip(blank))
    return last, has_rows


def records(source: Source) -> Iterator[Record]:
    """The rows under the header, each named by the line it starts on; blank rows skipped.

    A row csv cannot read (a field over its size limit) comes out as a Record with a
    problem, and reading goes on at the next line, so the rows after it are not lost.
    """
    with (
        source.path.open("rb") as raw,
        io.TextIOWrapper(raw, encoding=source.codec, newline="") as text,
    ):
        reader = csv.reader(text, delimiter=source.delimiter)
        start = 1
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Record(start, reader.line_num, [], _unreadable(exc))
            except UnicodeDecodeError:
                # `inspect` decoded it all: the file changed while it was being imported.
                raise ImportFileError(
                    f"line {reader.line_num + 1}: the file changed while it was read"
                ) from None
            else:
                if start > source.header_line and any(map(str.strip, fields)):
                    # A cell our export neutralised ('=…) is read as it was.
                    yield Record(start, reader.line_num, [plain_cell(f) for f in fields])
            start = reader.line_num + 1


def _codec(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
        "\n".encode(name)  # refuses codecs that are no text encoding (base64, zlib...)
    except LookupError:
        raise ImportFileError(f"unknown encoding {encoding!r}") from None
    # Excel's "CSV UTF-8" starts with a byte-order mark; utf-8-sig drops it (and needs none).
    return "utf-8-sig" if name == "utf-8" else name


def _check_signature(head: bytes, codec: str) -> None:
    for magic, kind in SIGNATURES:
        if head.startswith(magic):
            raise ImportFileError(f"not a CSV file: this is {kind}")
    if codec == "utf-8-sig" and head.startswith(UTF16_BOMS):
        raise ImportFileError("the file is in UTF-16: import it with --encoding utf-16")


def _decoded_lines(handle: BinaryIO, codec: str) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line; a byte the encoding cannot decode names its line."""
    if codec == "utf-8-sig" or "\n".encode(codec) == b"\n":
        # A line break is one byte that no other character contains: decode line by line
        # (a byte-order mark decodes as U+FEFF under plain UTF-8's faster decoder).
        plain = "utf-8" if codec == "utf-8-sig" else codec
        for number, raw in enumerate(handle, 1):
            try:
                yield number, raw.decode(plain)
            except UnicodeDecodeError as exc:
                raise ImportFileError(_undecodable(number, exc, codec)) from None
        return
    # UTF-16 or UTF-32: a character may hold a 0x0a byte, so count decoded line breaks.
    decoder = codecs.getincrementaldecoder(codec)()
    number, pending = 1, ""
    chunks = iter(handle)
    while True:
        chunk = next(chunks, None)
        try:
            pending += decoder.decode(chunk or b"", final=chunk is None)
        except UnicodeDecodeError as exc:
            raise ImportFileError(_undecodable(number + pending.count("\n"), exc, codec)) from None
        *complete, pending = pending.split("\n")
        for text in complete:
            yield number, text
            number += 1
        if chunk is None:
            break
    if pending:
        yield number, pending


def _undecodable(line: int, exc: UnicodeDecodeError, codec: str) -> str:
    shown = "UTF-8" if codec == "utf-8-sig" else codec
    byte = exc.object[exc.start : exc.start + 1].hex()
    return (
        f"line {line}: not valid {shown} (byte 0x{byte}); say the file's encoding with"
        " --encoding, e.g. --encoding cp1252 (Excel on Windows) or --encoding latin-1"
    )


def _split_header(header: str, line: int) -> tuple[str, list[str]]:
    """The delimiter that makes an `email` column of the header line, and the names."""
    if "\x00" in header:
        raise ImportFileError(
            "NUL bytes in the header line: a binary file, or UTF-16 text"
            " (then import it with --encoding utf-16)"
        )
    candidates: list[tuple[str, list[str]]] = []
    for delimiter in DELIMITERS:
        names = [name.strip().lower() for name in _header_fields(header, delimiter, line)]
        if "email" in names:
            return delimiter, names
        candidates.append((delimiter, names))
    _, names = max(candidates, key=lambda candidate: len(candidate[1]))
    raise ImportFileError(
        f"no 'email' column; the header line has {_listed(names)}"
        f" (the first line must name the columns: {', '.join(COLUMNS)})"
    )


def _header_fields(header: str, delimiter: str, line: int) -> list[str]:
    try:
        return next(csv.reader([header], delimiter=delimiter, strict=True))
    except csv.Error as exc:
        if "field limit" in str(exc):
            raise ImportFileError(
                f"line {line}: the header line holds {_unreadable(exc)}"
            ) from None
        if "unexpected end of data" in str(exc):
            raise ImportFileError(f"line {line}: a quote left open in the header line") from None
    # Only stray quotes (`na"me`): read them as csv reads rows, leniently.
    return next(csv.reader([header], delimiter=delimiter))


def _columns(names: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, name in enumerate(names):
        if name not in COLUMNS:
            continue
        if name in columns:
            raise ImportFileError(
                f"the header names the column {name!r} twice (columns {columns[name] + 1} and"
                f" {index + 1}): which one holds the data is ambiguous, nothing imported"
            )
        columns[name] = index
    return columns


def _ignored(names: list[str]) -> tuple[str, ...]:
    return tuple(
        repr(_clip(name)) if name else f"column {index + 1} (no name)"
        for index, name in enumerate(names)
        if name not in COLUMNS
    )


def _listed(names: list[str]) -> str:
    shown = ", ".join(repr(_clip(name)) for name in names[:SHOWN_NAMES])
    more = len(names) - SHOWN_NAMES
    return shown + (f" and {more} more" if more > 0 else "")


def _unreadable(exc: csv.Error) -> str:
    if "field limit" in str(exc):
        return f"a field longer than {csv.field_size_limit()} characters"
    return f"unreadable row: {exc}"


def _clip(value: str, length: int = 40) -> str:
    return value if len(value) <= length else value[: length - 1] + "…"
