"""The roles a person (or a paired kitchen device) holds. Ordered: an admin may do what an
operator may, an operator what a viewer may. The web layer marks routes with them
(:mod:`expediter.web.roles`)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    """Reads the dashboard, flows, transfers and screens."""
    OPERATOR = "operator"
    """Also replays dead letters, runs flows now, releases held entries, bumps tickets, 86s items
    and approves kitchen screens' pairing codes."""
    ADMIN = "admin"
    """Also manages users, API tokens and paired devices."""

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank
