"""Delimited files as spreadsheets save them: every encoding, delimiter and quirk read the same."""

from __future__ import annotations

import codecs
import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expediter.errors import RejectedInput
from expediter.formats.tabular import (
    Encoding,
    column_key,
    inert,
    open_table,
    read_rows,
    restored,
    sniff_delimiter,
    split_lines,
)

SHEET = [["ingredient", "unit", "quantity"], ["crème fraîche", "lb", "2.5"], ["jalapeño", "each", "12"]]


def _written(rows: list[list[str]], *, delimiter: str = ",", newline: str = "\r\n") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (_written(SHEET).encode("utf-8"), Encoding.UTF8),
        (codecs.BOM_UTF8 + _written(SHEET).encode("utf-8"), Encoding.UTF8_BOM),
        (codecs.BOM_UTF16_LE + _written(SHEET).encode("utf-16-le"), Encoding.UTF16_LE),
        (codecs.BOM_UTF16_BE + _written(SHEET).encode("utf-16-be"), Encoding.UTF16_BE),
        (_written(SHEET).encode("cp1252"), Encoding.CP1252),
        (_written(SHEET).encode("utf-16-le"), Encoding.UTF16_LE),  # the mark lost on the way
    ],
    ids=["utf-8", "utf-8 BOM", "utf-16 LE", "utf-16 BE", "windows-1252", "utf-16 LE without BOM"],
)
def test_each_encoding_reads_the_same_rows(data: bytes, encoding: Encoding) -> None:
    table, rows = read_rows(data)
    assert table.encoding is encoding
    assert table.header == SHEET[0]
    assert [row.cells for row in rows] == SHEET[1:]
    assert [row.number for row in rows] == [2, 3]
    assert not any(row.unreadable for row in rows)


def test_windows_1252_after_a_long_ascii_start_switches_where_it_begins() -> None:
    text = "name,price\n" + "plain,1\n" * 20_000 + "Café crème,2.50\n€ coin,1\n"
    table = open_table(io.BytesIO(text.encode("cp1252")))
    assert table.encoding is Encoding.UTF8  # all the sniffed sample could tell
    rows = list(table.rows())
    assert table.encoding_found is Encoding.CP1252
    assert rows[-2].cells == ["Café crème", "2.50"] and rows[-1].cells == ["€ coin", "1"]
    assert not any(row.unreadable for row in rows)


def test_a_byte_no_encoding_reads_spoils_its_row_only() -> None:
    data = "name,price\nbrûlée,3\n".encode() + b"plain,1\n" * 20_000 + b"caf\xe9,2\nlast,4\n"
    table, rows = read_rows(data)
    assert table.encoding_found is Encoding.UTF8
    assert [row.number for row in rows if row.unreadable] == [20_003]
    assert rows[0].cells == ["brûlée", "3"] and rows[-1].cells == ["last", "4"]


def test_utf32_is_refused_with_what_to_do() -> None:
    with pytest.raises(RejectedInput, match="UTF-32") as caught:
        read_rows(codecs.BOM_UTF32_LE + "a,b\r\n".encode("utf-32-le"))
    assert "UTF-8" in caught.value.fix


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed(delimiter: str) -> None:
    rows = [["item", "price", "note"], ["fries", "3,5" if delimiter == ";" else "3.5", "with, comma"]]
    table, read = read_rows(_written(rows, delimiter=delimiter).encode())
    assert table.delimiter == delimiter
    assert table.header == rows[0] and read[0].cells == rows[1]


def test_a_semicolon_file_with_decimal_commas_is_not_taken_for_commas() -> None:
    assert sniff_delimiter("item;price;qty\nfries;3,50;2\nsoda;1,25;10\n") == ";"


def test_excels_sep_line_names_the_delimiter_and_is_not_a_row() -> None:
    table, rows = read_rows(b"sep=|\r\na|b\r\n1|2\r\n")
    assert table.delimiter == "|" and table.header == ["a", "b"]
    assert [(row.number, row.cells) for row in rows] == [(2, ["1", "2"])]


def test_excels_quirks() -> None:
    data = (
        "  Vendor Item ;Description ; Unit Cost;;\r\n"
        '="00123";"Tomatoes, roma\r\n25 lb case";41,50;;\r\n'
        ";;;;\r\n"
        '="0007";"Say ""hi""";2;;\r\n'
    ).encode("cp1252")
    table, rows = read_rows(data)
    assert table.header == ["Vendor Item", "Description", "Unit Cost"]  # trailing empty columns gone
    assert table.columns == ["vendor_item", "description", "unit_cost"]
    assert rows[0].cells == ["00123", "Tomatoes, roma\r\n25 lb case", "41,50"]  # one record, two lines
    assert rows[1].cells == ["0007", 'Say "hi"', "2"]
    assert [row.number for row in rows] == [2, 4]  # the blank row 3 still counts, as on screen


def test_cells_beyond_the_header_are_kept_when_not_empty() -> None:
    _, rows = read_rows(b"a,b\n1,2,,\n1,2,3\n4\n")
    assert [row.cells for row in rows] == [["1", "2"], ["1", "2", "3"], ["4", ""]]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (codecs.BOM_UTF8 + b"\r\n", "empty"),
        (b"\n\na,b\n", "first row is empty"),
        (b'a,b\n1,"never closed\n' + b"x" * 140_000 + b"\n", "row 2 cannot be read"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(data: bytes, message: str) -> None:
    with pytest.raises(RejectedInput, match=message):
        read_rows(data)


def test_lines_split_on_every_ending_even_across_pieces() -> None:
    pieces = ["a,b\r", "\n1,2\r3,4\n5", ",6"]
    assert list(split_lines(pieces)) == ["a,b\r\n", "1,2\r", "3,4\n", "5,6"]


def test_column_keys() -> None:
    assert column_key("  Unit Cost ") == "unit_cost"
    assert column_key("Vendor-Item") == "vendor_item"
    assert column_key('="Qty"') == "qty"


@given(st.text(max_size=30))
def test_inert_cells_come_back(text: str) -> None:
    assert restored(inert(text)) == text
    assert not inert(text).startswith(("=", "+", "-", "@"))


_CELL = st.text(alphabet=st.characters(codec="cp1252", exclude_characters="\x00\r\n"), max_size=12).map(
    str.strip
)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.lists(_CELL, min_size=3, max_size=3), min_size=1, max_size=8),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
)
def test_what_a_spreadsheet_writes_reads_back(rows: list[list[str]], delimiter: str, encoding: str) -> None:
    header = ["alpha", "beta", "gamma"]
    written = [row for row in rows if any(row) and not row[0].startswith('="')]
    data = _written([header, *written], delimiter=delimiter).encode(encoding)
    table, read = read_rows(data)
    assert table.header == header and table.delimiter == delimiter
    assert [row.cells for row in read] == written
