"""Full card numbers are refused wherever they hide; the error names the place, never the number."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from expediter.errors import RejectedInput
from expediter.model.cards import (
    contains_card_number,
    luhn_valid,
    mask_card_numbers,
    mask_card_numbers_in_log,
    refuse_card_numbers,
    refuse_card_numbers_in_payload,
)

VISA_TEST = "4111111111111111"
FULLWIDTH_VISA = "".join(chr(0xFF10 + int(digit)) for digit in VISA_TEST)


def test_luhn_known_answers() -> None:
    assert luhn_valid(VISA_TEST)
    assert luhn_valid("378282246310005")  # AmEx test number, 15 digits
    assert not luhn_valid("4111111111111112")


def test_grouped_digits_are_found() -> None:
    assert contains_card_number("card 4111 1111 1111 1111 thanks")
    assert contains_card_number("4111-1111-1111-1111")


@pytest.mark.parametrize(
    "written",
    [
        "4111.1111.1111.1111",  # dots
        "4111\u00a01111\u00a01111\u00a01111",  # no-break spaces (pasted from a document)
        FULLWIDTH_VISA,
        " ".join(FULLWIDTH_VISA[at : at + 4] for at in range(0, 16, 4)),
        "3056 930902 5904",  # Diners Club 4-6-4 (a published test number)
        "3782 822463 10005",  # AmEx 4-6-5
        "41111111 11111111",  # two groups of eight
        "4111-1111-1111-1111-003",  # 19 digits in 4-4-4-4-3
    ],
)
def test_card_numbers_written_other_ways_are_found(written: str) -> None:
    assert luhn_valid("4111111111111111003") and luhn_valid("30569309025904")
    assert contains_card_number(f"pay with {written} please")


@pytest.mark.parametrize(
    "harmless",
    [
        "27.11.2026",  # a date with dots
        "v1.2.3.4",
        "4111.1111.1111",  # 12 digits
        "4111.1111-1111.1111",  # mixed separators are not how a card is written
        "call 555-867-5309 or 555-123-4567",
        "\uff11\uff12\uff13\uff14",  # fullwidth, four digits
    ],
)
def test_things_that_only_look_numeric_pass(harmless: str) -> None:
    assert not contains_card_number(harmless)


def test_short_runs_and_last_four_pass() -> None:
    assert not contains_card_number("1111")
    assert not contains_card_number("order 20261127-0042 table 12")


def test_order_ids_of_digits_and_dashes_pass() -> None:
    # 15 digits that pass Luhn, but written as an id (3-8-4 groups), not as a card.
    for n in range(10_000):
        candidate = f"L001-20261127-{n:04d}"
        assert not contains_card_number(candidate), candidate


def test_a_run_without_a_network_prefix_passes() -> None:
    assert luhn_valid("0000000000000")
    assert not contains_card_number("0000000000000")


def test_refusal_names_the_path_not_the_number() -> None:
    payload = {"lines": [{"name": "Burger", "notes": f"pay with {VISA_TEST}"}]}
    with pytest.raises(RejectedInput) as caught:
        refuse_card_numbers(payload)
    assert caught.value.where == "$.lines[0].notes"
    assert VISA_TEST not in str(caught.value)
    assert "last four" in caught.value.fix


@given(st.sampled_from("23456"), st.text(alphabet="0123456789", min_size=12, max_size=18))
def test_any_luhn_valid_run_with_a_network_prefix_is_found(first: str, rest: str) -> None:
    digits = first + rest
    assert contains_card_number(f"x {digits} y") == luhn_valid(digits)


def test_a_card_number_as_an_object_key_is_refused_without_echoing_it() -> None:
    with pytest.raises(RejectedInput) as caught:
        refuse_card_numbers({"notes": {"ok": "x", VISA_TEST: "x"}})
    assert caught.value.where == "$.notes.<a key>"
    assert VISA_TEST not in str(caught.value)


@pytest.mark.parametrize(
    "written",
    [
        "CC-4539578763621486",  # a label and a dash before it
        "4111111111111111-exp",  # a dash and letters after it
        "card4111111111111111",
        "ref-4111-1111-1111-1111",
        "4111 1111 1111 1111/12-29",
    ],
)
def test_a_card_number_touching_dashes_or_letters_is_found(written: str) -> None:
    assert contains_card_number(written)
    with pytest.raises(RejectedInput):
        refuse_card_numbers({"notes": written})


def test_masking_keeps_the_last_four_and_the_text_around() -> None:
    assert mask_card_numbers("declined: CC-4539578763621486 (exp)") == "declined: CC-************1486 (exp)"
    assert mask_card_numbers("4111 1111 1111 1111") == "**** **** **** 1111"
    assert mask_card_numbers("row 3: quantity '6011-1111-1111-1117' is not a number") == (
        "row 3: quantity '****-****-****-1117' is not a number"
    )
    harmless = "order L001-20261127-0042, 12 items, total 4111"
    assert mask_card_numbers(harmless) == harmless


def test_a_card_number_in_a_text_file_is_refused_naming_its_line() -> None:
    sheet = b"ingredient,unit,quantity\nbeef,kg,2\nbun,each,6011-1111-1111-1117\n"
    with pytest.raises(RejectedInput) as caught:
        refuse_card_numbers_in_payload(sheet, "text/csv")
    assert caught.value.where == "line 3" and "6011" not in str(caught.value)
    refuse_card_numbers_in_payload(b"ingredient,unit,quantity\nbeef,kg,2\n", "text/csv")


def test_a_log_line_is_masked_before_it_is_written() -> None:
    event = {"event": "delivery_failed", "error": "HTTP 400: card 4111111111111111 declined", "attempt": 2}
    assert mask_card_numbers_in_log(None, "warning", event) == {
        "event": "delivery_failed",
        "error": "HTTP 400: card ************1111 declined",
        "attempt": 2,
    }
