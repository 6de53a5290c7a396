"""The spreadsheet-safe CSV writer and its reader."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from expediter.errors import RejectedInput
from expediter.formats.csv import (
    LABOR_V1,
    PRODUCT_MIX_V1,
    SALES_SUMMARY_V1,
    Column,
    ColumnType,
    Layout,
    LineEnding,
    layout,
    money_text,
    neutralise,
    read_csv,
    restore,
    write_csv,
)
from expediter.model.money import Money

TINY = Layout(
    name="tiny",
    version=1,
    columns=(
        Column(name="name", type=ColumnType.TEXT),
        Column(name="amount", type=ColumnType.MONEY),
        Column(name="qty", type=ColumnType.DECIMAL),
        Column(name="n", type=ColumnType.INTEGER),
        Column(name="day", type=ColumnType.DATE),
    ),
)


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ('=HYPERLINK("http://x","click")', '\'=HYPERLINK("http://x","click")'),
        ("+1 side of fries", "'+1 side of fries"),
        ("-5 off promo", "'-5 off promo"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("'quoted", "''quoted"),
        ("Burger = good", "Burger = good"),
        ("Café crème", "Café crème"),
    ],
)
def test_formula_like_text_is_neutralised_and_restored(text: str, cell: str) -> None:
    assert neutralise(text) == cell
    assert restore(cell) == text


def test_injection_prone_names_are_inert_in_the_file_and_numbers_stay_numbers() -> None:
    file = write_csv(TINY, [("=1+2", Money(-350), Decimal("-1.5"), -2, date(2026, 3, 10))], name="t.csv")
    assert file.content == b"name,amount,qty,n,day\r\n'=1+2,-3.50,-1.5,-2,2026-03-10\r\n"
    assert read_csv(TINY, file.content) == [
        {"name": "=1+2", "amount": -350, "qty": Decimal("-1.5"), "n": -2, "day": date(2026, 3, 10)}
    ]


def test_money_is_two_decimals_from_minor_units() -> None:
    assert [money_text(v) for v in (0, 5, -5, 100, 123456, -100001)] == [
        "0.00",
        "0.05",
        "-0.05",
        "1.00",
        "1234.56",
        "-1000.01",
    ]


def test_line_endings_and_bom() -> None:
    lf = write_csv(
        TINY, [("a", 1, 1, 1, date(2026, 1, 1))], name="t.csv", line_ending=LineEnding.LF, bom=True
    )
    assert lf.content.startswith(b"\xef\xbb\xbfname,") and b"\r\n" not in lf.content
    assert lf.content.endswith(b"\n") and lf.records == 1
    assert read_csv(TINY, lf.content)[0]["name"] == "a"


def test_text_with_commas_quotes_and_newlines_round_trips() -> None:
    text = 'Fish, "chips"\nand peas'
    file = write_csv(TINY, [(text, 0, 0, 0, date(2026, 1, 1))], name="t.csv")
    assert read_csv(TINY, file.content)[0]["name"] == text


@given(st.text())
def test_any_text_round_trips_and_no_cell_starts_a_formula(text: str) -> None:
    file = write_csv(TINY, [(text, None, None, None, None)], name="t.csv")
    (row,) = read_csv(TINY, file.content)
    assert row["name"] == text
    (cells,) = list(csv.reader(io.StringIO(file.content.decode(), newline="")))[1:]
    assert not cells[0].startswith(("=", "+", "-", "@", "\t", "\r", "\x00"))


def test_a_wrong_header_is_rejected_with_the_expected_columns() -> None:
    with pytest.raises(RejectedInput, match="expected columns: name, amount"):
        read_csv(TINY, b"nom,montant\r\n")


def test_a_bad_money_cell_names_row_and_column() -> None:
    with pytest.raises(RejectedInput, match="row 2 column amount"):
        read_csv(TINY, b"name,amount,qty,n,day\r\na,12.345,1,1,2026-01-01\r\n")
    with pytest.raises(RejectedInput, match="row 2 column day"):
        read_csv(TINY, b"name,amount,qty,n,day\r\na,1.00,1,1,soon\r\n")


def test_a_short_row_is_rejected() -> None:
    with pytest.raises(RejectedInput, match="row 2"):
        read_csv(TINY, b"name,amount,qty,n,day\r\na,1.00\r\n")


def test_layouts_are_versioned_and_looked_up_by_name() -> None:
    assert layout("sales_summary") is SALES_SUMMARY_V1
    assert layout("product_mix", 1) is PRODUCT_MIX_V1
    assert layout("labor") is LABOR_V1
    with pytest.raises(ValueError, match="known: labor v1"):
        layout("labor", 2)
    assert SALES_SUMMARY_V1.file_name("L/1", date(2026, 3, 10)) == "sales_summary_v1_L_1_20260310.csv"
