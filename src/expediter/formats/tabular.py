"""Delimited text as people save it from a spreadsheet, read one row at a time.

A manager's file comes from Excel, Numbers, LibreOffice or another system's export, so the reader
finds out what it is instead of asking:

- **encoding**: a byte order mark says UTF-8, UTF-16 LE or UTF-16 BE (Excel's "Unicode text");
  without one, text that is valid UTF-8 is UTF-8 and anything else Windows-1252 (Excel's "CSV" on a
  Western Windows). A file that looked like plain ASCII at first and later has a byte UTF-8 cannot
  read switches to Windows-1252 there (the two agree on everything before). A byte neither can read
  makes its row a bad row (:attr:`TableRow.unreadable`), not the whole file;
- **delimiter**: comma, semicolon (Excel where the decimal mark is a comma), tab or pipe, sniffed
  from the first lines; Excel's ``sep=;`` first line is honoured and skipped;
- **Excel's quirks**: quoted cells may hold line breaks (one record, one spreadsheet row); a cell
  written ``="0123"`` (text kept with its leading zero) reads as ``0123``; empty columns trailing
  the header are dropped, with the empty cells under them; header names lose stray spaces and
  are matched by :func:`column_key` (``" Unit Cost "`` is ``unit_cost``); blank rows are skipped.

Row numbers are the spreadsheet's: the header is row 1 (blank rows count, as the spreadsheet shows
them). Nothing is held but the current row: a file of a million rows streams in bounded memory,
and :attr:`Table.bytes_read` says how far the reading got (for a progress bar).

A ground-floor module: it imports only :mod:`expediter.errors`.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import BinaryIO

from expediter.errors import RejectedInput

CHUNK_BYTES = 1 << 16
"""Bytes read at a time (and the sample the encoding and delimiter are sniffed from)."""
DELIMITERS = (",", ";", "\t", "|")
SNIFF_LINES = 20
MAX_CELL = 1 << 17
"""The csv module's own limit on a cell (128 KiB); a longer one means a quote left open."""


class Encoding(StrEnum):
    """How the file's text was written (the value is Python's codec name)."""

    UTF8 = "utf-8"
    UTF8_BOM = "utf-8-sig"
    UTF16_LE = "utf-16-le"
    UTF16_BE = "utf-16-be"
    CP1252 = "cp1252"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Encoding.UTF8: "UTF-8",
    Encoding.UTF8_BOM: "UTF-8 with BOM",
    Encoding.UTF16_LE: "UTF-16 LE",
    Encoding.UTF16_BE: "UTF-16 BE",
    Encoding.CP1252: "Windows-1252",
}
_BOMS = (
    (codecs.BOM_UTF8, Encoding.UTF8_BOM),
    (codecs.BOM_UTF16_LE, Encoding.UTF16_LE),
    (codecs.BOM_UTF16_BE, Encoding.UTF16_BE),
)
_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)


def _cp1252_gaps(error: UnicodeError) -> tuple[str, int]:
    """The five bytes Windows-1252 leaves undefined read as Latin-1 (what Windows itself does)."""
    assert isinstance(error, UnicodeDecodeError)
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("expediter-cp1252", _cp1252_gaps)


def detect_encoding(head: bytes) -> tuple[Encoding, int]:
    """The encoding of a file starting with ``head``, and the length of its byte order mark."""
    if head[:4] in _UTF32_BOMS:
        raise RejectedInput(
            "the file is UTF-32 text, which the hub does not read",
            where="the file",
            fix="save it as CSV UTF-8 (or Unicode text, which is UTF-16)",
        )
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding, len(bom)
    unmarked = _utf16_without_bom(head)
    if unmarked is not None:
        return unmarked, 0
    return (Encoding.UTF8 if _utf8_prefix(head) else Encoding.CP1252), 0


def _utf16_without_bom(head: bytes) -> Encoding | None:
    """UTF-16 that lost its mark: ASCII text leaves every other byte zero."""
    sample = head[:512]
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    even, odd = sample[0::2], sample[1::2]
    if even.count(0) > len(even) * 0.6 and odd.count(0) == 0:
        return Encoding.UTF16_BE
    if odd.count(0) > len(odd) * 0.6 and even.count(0) == 0:
        return Encoding.UTF16_LE
    return None


def _utf8_prefix(data: bytes) -> bool:
    """Whether ``data`` is UTF-8, allowing a character cut at its end (a sample's edge)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.reason == "unexpected end of data" and exc.start >= len(data) - 3
    return True


class _Decoder:
    """Bytes to text in chunks, with the one switch the module docstring describes."""

    def __init__(self, encoding: Encoding) -> None:
        self.encoding = encoding
        codec = "utf-8" if encoding is Encoding.UTF8_BOM else str(encoding)
        errors = "expediter-cp1252" if encoding is Encoding.CP1252 else "strict"
        self._decoder = codecs.getincrementaldecoder(codec)(errors)
        self._ascii_so_far = encoding is Encoding.UTF8
        self.replaced = False
        """Whether a byte could not be read (it became U+FFFD)."""

    def decode(self, data: bytes, final: bool = False) -> str:
        pending = self._decoder.getstate()[0]
        try:
            text = self._decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            text = self._after_error(pending + data, exc, final)
        if self._ascii_so_far and not text.isascii():
            self._ascii_so_far = False
        return text

    def _after_error(self, data: bytes, exc: UnicodeDecodeError, final: bool) -> str:
        if self._ascii_so_far and exc.object[: exc.start].isascii():
            self.encoding = Encoding.CP1252
            self._decoder = codecs.getincrementaldecoder("cp1252")("expediter-cp1252")
        else:
            self.replaced = True
            codec = "utf-8" if self.encoding in (Encoding.UTF8, Encoding.UTF8_BOM) else str(self.encoding)
            self._decoder = codecs.getincrementaldecoder(codec)("replace")
        return self._decoder.decode(data, final)


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)")


def split_lines(texts: Iterable[str]) -> Iterator[str]:
    """Lines with their endings (``\\r\\n``, ``\\r`` or ``\\n``, as ``newline=""`` reads them),
    from text that arrives in pieces; the csv reader joins those inside a quoted cell. Only text up
    to a piece's last line ending is split (the rest waits for the next piece), so a long line costs
    its length once."""
    pending = ""
    for piece in texts:
        text = pending + piece
        last = _last_ending(text, len(text))
        if last == len(text) - 1 and text.endswith("\r"):
            last = _last_ending(text, last)  # its "\n" may be in the next piece
        if last < 0:
            pending = text
            continue
        yield from _LINE.findall(text, 0, last + 1)
        pending = text[last + 1 :]
    if pending:
        yield pending


def _last_ending(text: str, before: int) -> int:
    return max(text.rfind("\n", 0, before), text.rfind("\r", 0, before))


_SEP_LINE = re.compile(r"^sep=(.)\r?\n?$", re.IGNORECASE)
_EXCEL_TEXT = re.compile(r'^="(.*)"$', re.DOTALL)
_SEPARATORS = re.compile(r"[\s\-]+")


def excel_cell(text: str) -> str:
    """A cell as the spreadsheet showed it: surrounding spaces gone, ``="0123"`` read as ``0123``."""
    cell = text.strip(" \t")
    if not cell.startswith('="'):
        return cell
    match = _EXCEL_TEXT.match(cell)
    return match.group(1).replace('""', '"') if match else cell


def column_key(name: str) -> str:
    """How a header name is matched: case, spaces and dashes do not matter (``Unit Cost`` is
    ``unit_cost``)."""
    return _SEPARATORS.sub("_", excel_cell(name).strip().lower()).strip("_")


def trimmed(cells: list[str]) -> list[str]:
    """Without the empty cells at the end (Excel's trailing empty columns)."""
    end = len(cells)
    while end and not cells[end - 1]:
        end -= 1
    return cells[:end]


def sniff_delimiter(sample: str) -> str:
    """The delimiter that splits the header into the most columns and the rows below it into as
    many (comma when nothing is clearer: a one-column file)."""
    lines = list(itertools.islice(split_lines([sample]), SNIFF_LINES + 1))[:SNIFF_LINES]
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        widths = _widths(lines, delimiter)
        if not widths or widths[0] < 2:
            continue
        below = widths[1:]
        agreement = sum(w == widths[0] for w in below) / len(below) if below else 1.0
        score = (round(agreement, 1), widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _widths(lines: list[str], delimiter: str) -> list[int]:
    try:
        rows = list(csv.reader(lines, delimiter=delimiter))
    except csv.Error:
        return []
    return [len(trimmed([c.strip() for c in row])) for row in rows if any(c.strip() for c in row)]


@dataclass(frozen=True)
class TableRow:
    number: int
    """The spreadsheet's row number (the header is row 1)."""
    cells: list[str]
    """As the spreadsheet showed them (:func:`excel_cell`), one per header column, plus any
    non-empty cells beyond the header."""
    unreadable: bool = False
    """The row held a byte the file's encoding cannot read (shown as U+FFFD)."""


@dataclass
class Table:
    """One delimited file: what was found out about it, its header, and its rows (read once)."""

    encoding: Encoding
    delimiter: str
    header: list[str]
    """The header cells as written (stray spaces gone), trailing empty columns dropped."""
    header_row: int
    size: int | None
    _records: Iterator[list[str]] = field(repr=False)
    _source: _Source = field(repr=False)

    @property
    def columns(self) -> list[str]:
        """The header names as matched (:func:`column_key`)."""
        return [column_key(name) for name in self.header]

    @property
    def bytes_read(self) -> int:
        return self._source.bytes_read

    @property
    def encoding_found(self) -> Encoding:
        """The encoding after reading (a plain-ASCII start may have turned out Windows-1252)."""
        return self._source.decoder.encoding

    def rows(self) -> Iterator[TableRow]:
        """The data rows in order; blank rows skipped. Read once."""
        number = self.header_row
        width = len(self.header)
        for record in self._records:
            number += 1
            cells = [excel_cell(cell) for cell in record]
            if not any(cells):
                continue
            cells = cells[:width] + trimmed(cells[width:])
            cells += [""] * (width - len(cells))
            unreadable = self._source.decoder.replaced and any("\ufffd" in c for c in cells)
            yield TableRow(number=number, cells=cells, unreadable=unreadable)


class _Source:
    """The file's bytes as text, chunk by chunk, counting what was read."""

    def __init__(self, stream: BinaryIO, first: bytes, encoding: Encoding, skip: int) -> None:
        self.stream = stream
        self.decoder = _Decoder(encoding)
        self.bytes_read = len(first)
        self._first = first[skip:]

    def texts(self) -> Iterator[str]:
        yield self.decoder.decode(self._first)
        while chunk := self.stream.read(CHUNK_BYTES):
            self.bytes_read += len(chunk)
            yield self.decoder.decode(chunk)
        yield self.decoder.decode(b"", final=True)


def open_table(stream: BinaryIO, *, size: int | None = None) -> Table:
    """Start reading ``stream`` (binary): sniff the encoding and the delimiter, read the header.

    A file that is empty, has no header, or that no delimiter splits the way its header does is
    refused with :class:`RejectedInput` saying what to do; a bad row is the caller's to judge."""
    first = stream.read(CHUNK_BYTES)
    if not first.strip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n"):
        raise RejectedInput("the file is empty", where="the file", fix="export the sheet again with its rows")
    encoding, skip = detect_encoding(first)
    source = _Source(stream, first, encoding, skip)
    texts = source.texts()
    sample = next(texts)
    lines = split_lines(itertools.chain([sample], texts))
    first_line = next(lines, "")
    sep = _SEP_LINE.match(first_line)  # Excel's own hint; the spreadsheet does not show the line
    if sep:
        delimiter = sep.group(1)
    else:
        delimiter = sniff_delimiter(sample)
        lines = itertools.chain([first_line], lines)
    records = _records(csv.reader(lines, delimiter=delimiter, strict=False))
    header = _header(records)
    return Table(
        encoding=encoding,
        delimiter=delimiter,
        header=header,
        header_row=1,
        size=size,
        _records=records,
        _source=source,
    )


def _records(reader: Iterator[list[str]]) -> Iterator[list[str]]:
    """The csv reader's records; a record it cannot read (a quote left open runs past the cell
    limit) is refused with the row it started on."""
    number = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise RejectedInput(
                f"row {number + 1} cannot be read ({exc})",
                where=f"row {number + 1}",
                fix='close the quote (") that row opens, or remove it, and save the file again',
            ) from None
        number += 1
        yield record


def _header(records: Iterator[list[str]]) -> list[str]:
    for record in records:
        cells = trimmed([excel_cell(cell) for cell in record])
        if cells:
            return cells
        raise RejectedInput(
            "the first row is empty; it must name the columns",
            where="row 1",
            fix="put the column names in the first row",
        )
    raise RejectedInput("the file has no header row", where="row 1", fix="put the column names in row 1")


def read_rows(data: bytes) -> tuple[Table, list[TableRow]]:
    """A whole small file at once (tests, previews of a few rows)."""
    table = open_table(io.BytesIO(data), size=len(data))
    return table, list(table.rows())


CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\x00", "'")


def inert(cell: str) -> str:
    """A cell written so a spreadsheet shows it as text, never runs it as a formula (a leading
    ``'``, CWE-1236); :func:`restored` gives the cell back."""
    return "'" + cell if cell.startswith(CSV_TRIGGERS) else cell


def restored(cell: str) -> str:
    return cell[1:] if cell.startswith("'") else cell
