"""``expediter x12 read``: what a person and a script see, and exit 1 on errors."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from expediter.cli import app
from tests.fixtures_path import SHARED_FIXTURES

X12 = SHARED_FIXTURES / "x12"


def test_read_prints_the_invoices_and_their_totals() -> None:
    result = CliRunner().invoke(
        app, ["x12", "read", str(X12 / "staedi_810_snacks_two_invoices.edi")], env={"COLUMNS": "160"}
    )
    assert result.exit_code == 0, result.output
    assert "Invoice 00001 of 1997-12-11" in result.output
    assert "CRUNCHY CHIPS LSS" in result.output and "2554.38 USD" in result.output
    assert "lines and adjustments add up to 1851.00 USD" in result.output  # the copied total shows


def test_read_json_is_the_canonical_invoice() -> None:
    path = X12 / "fromedi_810_vics_newline_terminated.edi"
    result = CliRunner().invoke(app, ["x12", "read", "--json", str(path)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    invoice = report["documents"][0]["invoice"]
    assert invoice["invoice_number"] == "217224"
    assert invoice["stated_total"] == {"amount": 21740, "currency": "USD"}
    assert invoice["lines"][0]["quantity"] == "4" and invoice["lines"][0]["item"]["upc"] == "999999330023"
    assert {p["code"] for p in report["problems"]} == {"se_count", "iea_control"}
    assert report["interchanges"][0]["separators"]["segment"] == "\n"


def test_errors_are_printed_with_their_position_and_exit_1() -> None:
    path = X12 / "edinet_850_broken_isa16_missing_terminator.edi"
    result = CliRunner().invoke(app, ["x12", "read", str(path)], env={"COLUMNS": "300"})
    assert result.exit_code == 1
    assert "error: segment 1 (ISA16), line 1, byte 0" in result.output
    strict = CliRunner().invoke(
        app, ["x12", "read", "--strict", str(X12 / "fromedi_810_vics_newline_terminated.edi")]
    )
    assert strict.exit_code == 1 and "SE01 says '18' segments" in strict.output
    dex = CliRunner().invoke(
        app, ["x12", "read", str(X12 / "gozer_dex894_promotions.txt")], env={"COLUMNS": "160"}
    )
    assert dex.exit_code == 0 and "Invoice 109152000116 of 2018-11-29" in dex.output
