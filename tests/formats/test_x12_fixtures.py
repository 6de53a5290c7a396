"""Every vendor-written X12 file in shared/fixtures parses as it is; the broken ones fail clearly."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from expediter.formats.x12 import DocumentKind, Severity, read_documents, read_x12
from expediter.model.money import Money
from expediter.model.vendors import AckStatus, AllowanceOrCharge
from tests.fixtures_path import SHARED_FIXTURES

X12 = SHARED_FIXTURES / "x12"
BROKEN = {"edinet_850_broken_isa16_missing_terminator.edi"}
ALL = sorted(p for p in X12.glob("*.edi"))
DEX = sorted(X12.glob("gozer_dex894_*.txt"))


def _read(name: str):  # type: ignore[no-untyped-def]
    return read_documents((X12 / name).read_bytes())


@pytest.mark.parametrize("path", [p for p in ALL if p.name not in BROKEN], ids=lambda p: p.name)
def test_every_good_fixture_parses_with_no_error(path: Path) -> None:
    read = read_documents(path.read_bytes())
    assert read.documents, "no transaction found"
    assert read.errors == []
    assert all(document.accepted for document in read.documents)


def test_the_broken_isa16_file_is_rejected_at_the_isa_with_a_fix() -> None:
    read = _read("edinet_850_broken_isa16_missing_terminator.edi")
    errors = read.errors
    assert errors and errors[0].code == "isa16_terminator"
    assert errors[0].position.segment == 1 and errors[0].position.element == 16
    assert "component separator" in errors[0].message and errors[0].fix
    assert not any(document.accepted for document in read.documents)


@pytest.mark.parametrize("path", DEX, ids=lambda p: p.name)
def test_dex_894_deliveries_are_read_as_invoices(path: Path) -> None:
    read = read_documents(path.read_bytes())
    assert read.errors == []
    assert read.documents and all(d.invoice is not None and d.code == "894" for d in read.documents)
    assert read_x12(path.read_bytes()).errors[0].code == "dex_894"  # not an X12 interchange


def test_dex_894_line_allowances_reconcile_with_g84() -> None:
    documents = _read("gozer_dex894_line_allowances.txt").documents
    invoice = documents[0].invoice
    assert invoice is not None and invoice.invoice_number == "148303793"
    assert len(invoice.lines) == 19 and invoice.lines[0].item.upc == "001410008782"
    first = invoice.lines[0].allowances_charges[0]
    assert first.kind is AllowanceOrCharge.ALLOWANCE and first.amount == Money(412)  # 1.03 x 4
    assert invoice.computed_total() == invoice.stated_total == Money(41040)
    two = [d.invoice for d in _read("gozer_dex894_two_deliveries.txt").documents]
    assert [i.stated_total for i in two if i] == [Money(7488), Money(856)]


def test_trailer_mismatches_are_warnings_with_positions() -> None:
    read = _read("fromedi_810_vics_newline_terminated.edi")
    codes = {p.code: p for p in read.problems}
    assert codes["se_count"].severity is Severity.WARNING
    assert codes["se_count"].position.segment == 21 and codes["se_count"].position.line == 21
    assert codes["iea_control"].severity is Severity.WARNING
    strict = read_documents((X12 / "fromedi_810_vics_newline_terminated.edi").read_bytes(), strict=True)
    assert {p.code for p in strict.errors} == {"se_count", "iea_control"}


def test_810_vics_lines_with_upc_and_tds_total() -> None:
    invoice = _read("fromedi_810_vics_newline_terminated.edi").documents[0].invoice
    assert invoice is not None
    assert invoice.invoice_number == "217224" and invoice.po_number == "P792940"
    assert len(invoice.lines) == 8 and invoice.lines[0].item.upc == "999999330023"
    assert invoice.stated_total == Money(21740) == invoice.lines_total()


def test_snack_invoices_keep_leading_zeros_and_show_the_copied_total() -> None:
    documents = _read("staedi_810_snacks_two_invoices.edi").documents
    first, second = (d.invoice for d in documents)
    assert first is not None and second is not None
    assert first.invoice_number == "00001"
    assert first.lines[0].line_number == "1" and first.lines[0].unit == "CA"
    assert first.lines[0].description == "CRUNCHY CHIPS LSS"
    assert second.lines_total() == Money(185100) and second.stated_total == Money(255438)


def test_ariba_summary_sac_restating_the_lines_is_not_counted_twice() -> None:
    invoice = _read("edinet_810_ariba_line_sac.edi").documents[0].invoice
    assert invoice is not None
    line = invoice.lines[0]
    kinds = {ac.code: ac.kind for ac in line.allowances_charges}
    assert kinds == {"B840": AllowanceOrCharge.INFORMATION, "G830": AllowanceOrCharge.CHARGE}
    assert all(ac.code != "G830" for ac in invoice.allowances_charges)
    assert invoice.computed_total() == invoice.stated_total == Money(36596)


def test_855_line_statuses() -> None:
    ack = _read("855.edi").documents[0].acknowledgement
    assert ack is not None and ack.po_number == "POTEST1112"
    assert [line.status for line in ack.lines] == [
        AckStatus.ACCEPTED,
        AckStatus.REJECTED,
        AckStatus.REJECTED,
        AckStatus.ACCEPTED,
    ]
    assert ack.lines[0].quantity == Decimal(3)
    twelve = _read("oboe_855_tilde_separator_twelve_sets.edi").documents
    assert len(twelve) == 12 and all(d.kind is DocumentKind.PO_ACK for d in twelve)


def test_transaction_kind_comes_from_st01_not_the_group_or_name() -> None:
    documents = _read("stedi_850_v008020_one_line.edi").documents
    assert [d.kind for d in documents] == [DocumentKind.PURCHASE_ORDER]
    assert _read("stedi_850_5010.edi").documents[0].purchase_order is not None


def test_several_interchanges_and_isb_ise() -> None:
    three = _read("staedi_997_three_interchanges.edi")
    assert len(three.file.interchanges) == 3
    isb = _read("staedi_997_isb_ise.edi")
    assert [s[0] for s in isb.file.interchanges[0].services] == ["ISB", "ISE"]
    rejected = _read("staedi_997_5010_rejected.edi").documents[0].functional_ack
    assert rejected is not None and rejected[0].status == "R"
    assert _read("staedi_997_repetition_separator.edi").file.interchanges[0].delimiters.repetition == "^"


def test_control_character_separators_and_composites() -> None:
    order = _read("oboe_850_control_char_separators.edi").documents[0].purchase_order
    assert order is not None and order.po_number == "2308"
    assert (
        _read("ediengine_850_newline_terminated_composites.edi").file.interchanges[0].delimiters.component
        == ">"
    )
