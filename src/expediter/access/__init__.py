"""People and permissions: who may sign in (users and their roles and locations), their sessions,
the kitchen devices paired to screens, and the audit log of what everyone did.

Every table here is owned by one module (:mod:`.users`, :mod:`.sessions`, :mod:`.devices`,
:mod:`.audit`); all of them are in the hub's database, through the storage seam, created by the
``0013_people`` migration. Only hashes of secrets are stored: argon2id for passwords, sha256 for
the random session ids and device credentials (a copy of the database signs nobody in).
"""

from expediter.access.audit import AuditAction, AuditEntry, AuditLog
from expediter.access.devices import Device, Devices, PairingRequest
from expediter.access.roles import Role
from expediter.access.sessions import Session, Sessions
from expediter.access.users import User, Users

__all__ = [
    "AuditAction",
    "AuditEntry",
    "AuditLog",
    "Device",
    "Devices",
    "PairingRequest",
    "Role",
    "Session",
    "Sessions",
    "User",
    "Users",
]
