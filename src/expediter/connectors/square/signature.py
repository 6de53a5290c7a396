"""Square webhook signatures, and a useful answer when they do not verify.

Square signs ``notification_url + raw_body`` with the subscription's signature key (HMAC-SHA256,
base64) in ``x-square-hmacsha256-signature``. Because the URL is signed, the most common failure is not
a forged request but a URL that differs from the one registered with Square: http behind a TLS proxy,
a trailing slash, another host name. When the signature verifies with such a variant the error says
exactly which URL to configure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator, Mapping
from urllib.parse import urlsplit, urlunsplit

from expediter.plugin import SignatureInvalid

SIGNATURE_HEADER = "x-square-hmacsha256-signature"


def square_signature(signature_key: str, notification_url: str, body: bytes) -> str:
    """base64(HMAC-SHA256(key, url + body)), as Square computes it."""
    digest = hmac.new(signature_key.encode(), notification_url.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name, whatever kind of mapping the web layer hands over."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def _matches(signature_key: str, url: str, body: bytes, given: str) -> bool:
    expected = square_signature(signature_key, url, body)
    return hmac.compare_digest(expected.encode(), given.encode())


def verify_square_signature(
    headers: Mapping[str, str],
    body: bytes,
    *,
    signature_key: str,
    notification_url: str,
    request_url: str = "",
    setting: str = "settings.notification_url",
) -> None:
    """Raise :class:`SignatureInvalid` unless the request was signed for ``notification_url``."""
    given = header(headers, SIGNATURE_HEADER)
    if not given:
        raise SignatureInvalid(
            f"missing {SIGNATURE_HEADER} header",
            hint="Square signs every webhook; a request without the header did not come from Square",
        )
    if _matches(signature_key, notification_url, body, given):
        return
    for candidate in url_variants(notification_url, request_url, headers):
        if _matches(signature_key, candidate, body, given):
            raise SignatureInvalid(
                "Square signature does not match the configured notification URL",
                hint=(
                    f"the signature matches {candidate} but the catalog has {notification_url}: "
                    f"set {setting} to {candidate}"
                ),
            )
    raise SignatureInvalid(
        "Square signature does not verify",
        hint=(
            "no variant of the notification URL matches either: check that settings.signature_key is "
            "the signature key of this webhook subscription (Square Developer Console → Webhooks) and "
            "that nothing between Square and the hub re-encodes the body"
        ),
    )


def url_variants(configured: str, request_url: str, headers: Mapping[str, str]) -> list[str]:
    """URLs Square may have signed instead of ``configured``, most likely first, without repeats."""
    seen = {configured}
    result: list[str] = []
    for url in _raw_variants(configured, request_url, headers):
        if url and url not in seen:
            seen.add(url)
            result.append(url)
    return result


def _raw_variants(configured: str, request_url: str, headers: Mapping[str, str]) -> Iterator[str]:
    bases = [configured]
    if request_url:
        bases.append(request_url)
        forwarded = _forwarded(request_url, headers)
        if forwarded:
            bases.append(forwarded)
    forwarded_configured = _forwarded(configured, headers)
    if forwarded_configured:
        bases.append(forwarded_configured)
    for base in bases:
        yield base
        for scheme_variant in (base, _swap_scheme(base)):
            yield scheme_variant
            yield _toggle_slash(scheme_variant)


def _forwarded(url: str, headers: Mapping[str, str]) -> str | None:
    """``url`` as seen from outside a proxy: ``X-Forwarded-Host`` / ``X-Forwarded-Proto``."""
    host = header(headers, "x-forwarded-host")
    proto = header(headers, "x-forwarded-proto")
    if not host and not proto:
        return None
    parts = urlsplit(url)
    scheme = (proto or parts.scheme).split(",")[0].strip()
    netloc = (host or parts.netloc).split(",")[0].strip()
    return urlunsplit((scheme, netloc, parts.path, parts.query, parts.fragment))


def _swap_scheme(url: str) -> str:
    if url.startswith("https://"):
        return "http://" + url[len("https://") :]
    if url.startswith("http://"):
        return "https://" + url[len("http://") :]
    return url


def _toggle_slash(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path[:-1] if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))
