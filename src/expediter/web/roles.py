"""Who may do what on the hub's pages and API: the roles, and the marks each route carries.

Every route that changes something says the least role it needs with :func:`needs`; the hub's
sign-in layer (:mod:`expediter.web.guard`, applied to every route by
:func:`expediter.web.app.create_app`) reads the mark (:func:`role_needed`) and refuses anyone
below it. A route without a mark needs :attr:`Role.VIEWER` (reading). Roles are ordered: an admin
may do what an operator may, an operator what a viewer may.

A route also says who calls it with :func:`open_to` (:func:`caller_of`): by default a person
signed in to the dashboard; a paired kitchen device; a machine that brings its own credential
(an API token, a webhook signature); or anyone (the sign-in page, health, assets).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

from expediter.access.roles import Role

F = TypeVar("F", bound=Callable[..., Any])
_MARK = "__expediter_role__"
_CALLER = "__expediter_caller__"

__all__ = ["Caller", "Role", "caller_of", "needs", "open_to", "role_needed"]


class Caller(StrEnum):
    PERSON = "person"
    """A person signed in (session cookie); the default."""
    DEVICE = "device"
    """A paired kitchen device (device cookie), for its stations and location only."""
    SCREEN = "screen"
    """A kitchen screen's page: a paired device sees the screen, any other browser a pairing code."""
    MACHINE = "machine"
    """The endpoint checks a credential of its own (an API token, a product's webhook signature)."""
    ANYONE = "anyone"
    """No credential: the sign-in page, health, the OpenAPI document, metrics, static assets."""


def needs(role: Role) -> Callable[[F], F]:
    """Mark an endpoint with the least role that may call it."""

    def mark(endpoint: F) -> F:
        setattr(endpoint, _MARK, role)
        return endpoint

    return mark


def role_needed(endpoint: object) -> Role:
    """The role an endpoint was marked with; :attr:`Role.VIEWER` when it carries no mark."""
    return getattr(endpoint, _MARK, Role.VIEWER)


def open_to(caller: Caller) -> Callable[[F], F]:
    """Mark an endpoint with who calls it (unmarked: a signed-in person)."""

    def mark(endpoint: F) -> F:
        setattr(endpoint, _CALLER, caller)
        return endpoint

    return mark


def caller_of(endpoint: object) -> Caller:
    return getattr(endpoint, _CALLER, Caller.PERSON)
