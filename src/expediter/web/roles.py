"""Who may do what on the hub's pages and API: the roles, and the mark each route carries.

Every route that changes something says the least role it needs with :func:`needs`; the hub's
sign-in layer reads the mark (:func:`role_needed`) and refuses anyone below it. A route without a
mark needs :attr:`Role.VIEWER` (reading). Roles are ordered: an admin may do what an operator
may, an operator what a viewer may.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
_MARK = "__expediter_role__"


class Role(StrEnum):
    VIEWER = "viewer"
    """Reads the dashboard, flows, transfers and screens."""
    OPERATOR = "operator"
    """Also replays dead letters, runs flows now, releases held entries, bumps tickets and 86s items."""
    ADMIN = "admin"
    """Also manages users, API tokens and paired devices."""

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


def needs(role: Role) -> Callable[[F], F]:
    """Mark an endpoint with the least role that may call it."""

    def mark(endpoint: F) -> F:
        setattr(endpoint, _MARK, role)
        return endpoint

    return mark


def role_needed(endpoint: object) -> Role:
    """The role an endpoint was marked with; :attr:`Role.VIEWER` when it carries no mark."""
    return getattr(endpoint, _MARK, Role.VIEWER)
