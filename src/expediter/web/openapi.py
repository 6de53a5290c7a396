"""The OpenAPI document, generated from the same msgspec types the API decodes and answers with,
so the document cannot drift from the code."""

from __future__ import annotations

from typing import Any

import msgspec

from expediter import __version__
from expediter.model.order import Order

REF = "#/components/schemas/{name}"


def _json(schema_ref: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema_ref}}}


def openapi_document() -> dict[str, Any]:
    from expediter.web.api import ErrorBody, Health, OrderAccepted, WebhookAccepted

    (order, accepted, webhook, error, health), components = msgspec.json.schema_components(
        [Order, OrderAccepted, WebhookAccepted, ErrorBody, Health], ref_template=REF
    )
    bearer: list[dict[str, list[str]]] = [{"bearer": []}]
    failures = {
        "400": _json(error, "The body is not JSON"),
        "401": _json(error, "No bearer token (or, for webhooks, a bad signature)"),
        "403": _json(error, "The token is not allowed"),
        "422": _json(error, "The order is invalid; `where` holds the JSON path"),
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Expediter", "version": __version__},
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "paths": {
            "/api/v1/orders": {
                "post": {
                    "summary": "Accept a canonical order (stored durably before the answer)",
                    "security": bearer,
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string"},
                        }
                    ],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": order}}},
                    "responses": {
                        "202": _json(accepted, "Stored"),
                        "200": _json(accepted, "Already stored under this idempotency key"),
                        **failures,
                    },
                }
            },
            "/api/v1/orders/{order_id}": {
                "get": {
                    "summary": "The order as accepted (latest version)",
                    "security": bearer,
                    "parameters": [
                        {"name": "order_id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {"200": _json(order, "The order"), "404": _json(error, "No such order")},
                }
            },
            "/api/v1/webhooks/{system}": {
                "post": {
                    "summary": "A product's own webhook, verified with its signature scheme",
                    "parameters": [
                        {"name": "system", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "202": _json(webhook, "Stored"),
                        "200": _json(webhook, "Already stored"),
                        "401": _json(error, "Signature invalid"),
                        "404": _json(error, "Unknown system, or it receives no webhooks"),
                        "422": _json(error, "Malformed payload"),
                    },
                }
            },
            "/healthz": {"get": {"summary": "Liveness", "responses": {"200": _json(health, "Alive")}}},
        },
    }
