"""Random separators, whitespace, truncation and segment orders never crash the reader, and every
rejection carries a position."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expediter.formats.x12 import (
    Envelope,
    InMemoryControlNumbers,
    X12Error,
    interchange,
    po_transaction,
    read_documents,
)
from tests.fixtures_path import SHARED_FIXTURES
from tests.formats.test_x12_writer import ORDER

BASE, _ = interchange(
    Envelope(sender_id="BISTRO", receiver_id="SYSCO01"),
    "PO",
    [po_transaction(ORDER)],
    InMemoryControlNumbers(),
    datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
)
INVOICE = (SHARED_FIXTURES / "x12" / "staedi_810_snacks_two_invoices.edi").read_text()
SEPARATORS = st.sampled_from(list("*~>^|!\x1c\x1d\x1e\x1f+:@\n"))


def _check(text: str) -> None:
    try:
        read = read_documents(text)
    except X12Error as exc:  # pragma: no cover - the reader reports, it does not raise
        raise AssertionError(f"raised instead of reporting: {exc}") from None
    for problem in read.problems:
        assert problem.position.segment >= 1
        assert problem.position.byte >= 0
        assert problem.message
    if not read.documents:
        assert read.errors, "nothing read and nothing said"


def _with_separators(text: str, element: str, component: str, terminator: str) -> str:
    table = str.maketrans({"*": "\0e", ">": "\0c", "~": "\0t"})
    marked = text.replace("\n", "").translate(table)
    return marked.replace("\0e", element).replace("\0c", component).replace("\0t", terminator)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(SEPARATORS, min_size=3, max_size=3, unique=True).filter(lambda s: "\n" not in s[:2]))
def test_any_three_separators_read_the_same_order(separators: list[str]) -> None:
    element, component, terminator = separators
    text = _with_separators(BASE, element, component, terminator)
    read = read_documents(text)
    assert read.errors == []
    order = read.documents[0].purchase_order
    assert order is not None and order.po_number == ORDER.po_number
    assert len(order.lines) == len(ORDER.lines)


@settings(max_examples=150)
@given(st.lists(st.sampled_from(["", " ", "\t", "\r\n", "\n", "  \n\t"]), min_size=1, max_size=80))
def test_whitespace_between_segments_changes_nothing(blanks: list[str]) -> None:
    segments = INVOICE.replace("\n", "").split("~")
    text = "\ufeff" + "".join(seg + "~" + blanks[i % len(blanks)] for i, seg in enumerate(segments) if seg)
    read = read_documents(text.encode())
    assert read.errors == []
    assert [d.invoice.invoice_number for d in read.documents if d.invoice] == ["00001", "00001"]


@settings(max_examples=300)
@given(st.integers(min_value=0, max_value=len(INVOICE)))
def test_a_cut_file_is_rejected_with_a_position(cut: int) -> None:
    text = INVOICE[:cut]
    read = read_documents(text)
    _check(text)
    if cut < len(INVOICE.rstrip()) - 1:
        assert read.errors, "a truncated file was accepted"


@settings(max_examples=300)
@given(st.randoms(use_true_random=False))
def test_shuffled_segments_never_crash(random: object) -> None:
    segments = [s for s in INVOICE.replace("\n", "").split("~") if s]
    head, rest = segments[0], segments[1:]
    random.shuffle(rest)  # type: ignore[attr-defined]
    _check("~".join([head, *rest]) + "~")


@settings(max_examples=300)
@given(st.text(max_size=300), st.integers(min_value=0, max_value=len(BASE)))
def test_garbage_spliced_in_never_crashes(garbage: str, at: int) -> None:
    _check(BASE[:at] + garbage + BASE[at:])


DEX = (SHARED_FIXTURES / "x12" / "gozer_dex894_line_allowances.txt").read_text()


@settings(max_examples=200)
@given(st.text(max_size=200), st.integers(min_value=0, max_value=len(DEX)))
def test_garbage_in_a_dex_file_never_crashes(garbage: str, at: int) -> None:
    _check(DEX[:at] + garbage + DEX[at:])
