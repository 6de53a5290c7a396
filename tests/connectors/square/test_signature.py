"""Square webhook signatures: Square's own known answer, URL mismatches with a useful hint, tampering."""

from __future__ import annotations

import pytest

from expediter.connectors.square.connector import make_webhook
from expediter.connectors.square.signature import (
    SIGNATURE_HEADER,
    square_signature,
    url_variants,
    verify_square_signature,
)
from expediter.plugin.base import SignatureInvalid
from expediter.sim.square_api import signed_webhook
from tests.connectors.square.support import NOTIFICATION_URL, SIGNATURE_KEY, fixture_json, square_context

# Square's own test vector, used by every Square SDK's webhook helper tests.
KNOWN_BODY = (
    b'{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":'
    b'"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z",'
    b'"data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}'
)
KNOWN_SIGNATURE = "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4="
KNOWN_KEY = "Ibxx_5AKakO-3qeNVR61Dw"
KNOWN_URL = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9"


def verify(headers: dict[str, str], body: bytes, *, url: str = KNOWN_URL, request_url: str = "") -> None:
    verify_square_signature(
        headers, body, signature_key=KNOWN_KEY, notification_url=url, request_url=request_url
    )


def test_square_known_answer() -> None:
    assert square_signature(KNOWN_KEY, KNOWN_URL, KNOWN_BODY) == KNOWN_SIGNATURE
    verify({SIGNATURE_HEADER: KNOWN_SIGNATURE}, KNOWN_BODY)


def test_header_name_is_case_insensitive() -> None:
    verify({"X-Square-HmacSha256-Signature": KNOWN_SIGNATURE}, KNOWN_BODY)


def test_missing_signature() -> None:
    with pytest.raises(SignatureInvalid, match="missing") as caught:
        verify({}, KNOWN_BODY)
    assert "did not come from Square" in caught.value.hint


def test_altered_body_is_refused() -> None:
    altered = KNOWN_BODY.replace(b"MLEFBHHSJGVHD", b"MLEFBHHSJGVHE")
    with pytest.raises(SignatureInvalid) as caught:
        verify({SIGNATURE_HEADER: KNOWN_SIGNATURE}, altered)
    assert "signature key" in caught.value.hint
    assert "the signature matches" not in caught.value.hint


def test_wrong_key_is_refused() -> None:
    signature = square_signature("another-key", KNOWN_URL, KNOWN_BODY)
    with pytest.raises(SignatureInvalid) as caught:
        verify({SIGNATURE_HEADER: signature}, KNOWN_BODY)
    assert "settings.signature_key" in caught.value.hint


def test_http_configured_but_square_signed_https() -> None:
    http_url = KNOWN_URL.replace("https://", "http://")
    with pytest.raises(SignatureInvalid) as caught:
        verify({SIGNATURE_HEADER: KNOWN_SIGNATURE}, KNOWN_BODY, url=http_url)
    assert caught.value.hint == (
        f"the signature matches {KNOWN_URL} but the catalog has {http_url}: "
        f"set settings.notification_url to {KNOWN_URL}"
    )


def test_trailing_slash_mismatch() -> None:
    with pytest.raises(SignatureInvalid) as caught:
        verify({SIGNATURE_HEADER: KNOWN_SIGNATURE}, KNOWN_BODY, url=KNOWN_URL + "/")
    assert f"the signature matches {KNOWN_URL} but the catalog has {KNOWN_URL}/" in caught.value.hint


def test_forwarded_host_mismatch() -> None:
    signed_for = "https://public.example.org/api/v1/webhooks/square"
    body, headers = signed_webhook(KNOWN_BODY, signature_key=KNOWN_KEY, notification_url=signed_for)
    headers["X-Forwarded-Host"] = "public.example.org"
    with pytest.raises(SignatureInvalid) as caught:
        verify(headers, body, url="https://hub.internal/api/v1/webhooks/square")
    assert f"the signature matches {signed_for}" in caught.value.hint


def test_request_url_mismatch() -> None:
    signed_for = "http://10.0.0.5:8080/api/v1/webhooks/square"
    body, headers = signed_webhook(KNOWN_BODY, signature_key=KNOWN_KEY, notification_url=signed_for)
    with pytest.raises(SignatureInvalid) as caught:
        verify(headers, body, url="https://hub.example.com/api/v1/webhooks/square", request_url=signed_for)
    assert f"set settings.notification_url to {signed_for}" in caught.value.hint


def test_url_variants_never_repeat_the_configured_url() -> None:
    variants = url_variants("https://a.example/x", "https://a.example/x", {"x-forwarded-proto": "https"})
    assert "https://a.example/x" not in variants
    assert len(variants) == len(set(variants))
    assert {"http://a.example/x", "https://a.example/x/", "http://a.example/x/"} <= set(variants)


def test_webhook_from_catalog_verifies_and_names_the_system_setting() -> None:
    webhook = make_webhook(square_context())
    event = fixture_json("OrderCreatedEvent.json")
    body, headers = signed_webhook(event, signature_key=SIGNATURE_KEY, notification_url=NOTIFICATION_URL)
    webhook.verify(headers, body, NOTIFICATION_URL)
    wrong = make_webhook(square_context(notification_url=NOTIFICATION_URL.replace("https", "http")))
    with pytest.raises(SignatureInvalid) as caught:
        wrong.verify(headers, body, "http://127.0.0.1:8080/api/v1/webhooks/square")
    assert "set systems[square].settings.notification_url to https://hub.example.com" in caught.value.hint


def test_notification_url_defaults_to_hub_public_url() -> None:
    ctx = square_context(notification_url="")
    ctx.catalog.hub.public_url = "https://hub.example.com/"
    assert make_webhook(ctx).notification_url == NOTIFICATION_URL
