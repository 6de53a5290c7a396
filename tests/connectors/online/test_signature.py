"""Online webhook signatures: known answer, tampering, wrong secret, replay window with clock hints."""

from __future__ import annotations

import pytest

from expediter.connectors.online.connector import make_webhook
from expediter.connectors.online.signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    online_signature,
    verify_online_signature,
)
from expediter.model import clock as hub_clock
from expediter.plugin.base import SignatureInvalid
from tests.connectors.online.support import SECRET, online_context, sample_order, signed

NOW = 1_800_000_000.0


def verify(headers: dict[str, str], body: bytes, *, now: float = NOW, secret: str = SECRET) -> None:
    verify_online_signature(headers, body, secret=secret, window_seconds=300, now=now)


def test_known_answer() -> None:
    # openssl: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac s3cret
    expected = "sha256=1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940"
    assert online_signature("s3cret", "1700000000", b'{"a":1}') == expected
    headers = {TIMESTAMP_HEADER: "1700000000", SIGNATURE_HEADER: expected}
    verify(headers, b'{"a":1}', now=1_700_000_100, secret="s3cret")


def test_valid_within_the_window() -> None:
    body, headers = signed(sample_order(), now=NOW - 299)
    verify(headers, body)
    body, headers = signed(sample_order(), now=NOW + 299)
    verify(headers, body)


def test_altered_body() -> None:
    body, headers = signed(sample_order(), now=NOW)
    with pytest.raises(SignatureInvalid, match="does not verify") as caught:
        verify(headers, body.replace(b"Maya", b"Mary"))
    assert "same secret" in caught.value.hint


def test_wrong_secret() -> None:
    body, headers = signed(sample_order(), now=NOW, secret="not-the-secret")
    with pytest.raises(SignatureInvalid, match="does not verify"):
        verify(headers, body)


def test_timestamp_is_signed_too() -> None:
    body, headers = signed(sample_order(), now=NOW - 3600)
    headers[TIMESTAMP_HEADER] = str(int(NOW))
    with pytest.raises(SignatureInvalid, match="does not verify"):
        verify(headers, body)


def test_old_request_outside_the_window() -> None:
    body, headers = signed(sample_order(), now=NOW - 301)
    with pytest.raises(SignatureInvalid, match="signed 301 s ago, outside the 300 s replay window") as caught:
        verify(headers, body)
    assert "NTP" in caught.value.hint and "clock is behind" in caught.value.hint


def test_future_dated_request() -> None:
    body, headers = signed(sample_order(), now=NOW + 3600)
    with pytest.raises(SignatureInvalid, match="3600 s in the future") as caught:
        verify(headers, body)
    assert "clock is ahead" in caught.value.hint


@pytest.mark.parametrize("drop", [TIMESTAMP_HEADER, SIGNATURE_HEADER])
def test_missing_headers(drop: str) -> None:
    body, headers = signed(sample_order(), now=NOW)
    del headers[drop]
    with pytest.raises(SignatureInvalid, match="missing"):
        verify(headers, body)


def test_timestamp_must_be_unix_seconds() -> None:
    body, headers = signed(sample_order(), now=NOW)
    headers[TIMESTAMP_HEADER] = "2026-11-27T12:00:00Z"
    with pytest.raises(SignatureInvalid, match="not Unix seconds"):
        verify(headers, body)


def test_connector_uses_the_configured_window_and_the_real_clock() -> None:
    webhook = make_webhook(online_context(replay_window_seconds=60))
    body, headers = signed(sample_order())
    webhook.verify(headers, body, "http://hub/api/v1/webhooks/online")
    body, headers = signed(sample_order(), now=hub_clock.unix_time() - 120)
    with pytest.raises(SignatureInvalid, match="60 s replay window"):
        webhook.verify(headers, body, "http://hub/api/v1/webhooks/online")
