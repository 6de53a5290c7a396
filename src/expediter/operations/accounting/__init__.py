"""The bookkeeper's side of the daily close: a balanced journal entry per location and day."""

from expediter.operations.accounting.close import (
    CloseStatus,
    JournalOutcome,
    close_journal,
    release_held,
    resolve_held,
)
from expediter.operations.accounting.journal import (
    AccountRole,
    DrawerCount,
    JournalEntry,
    JournalLine,
    JournalSettings,
    JournalStatistics,
    UnbalancedEntry,
    balanced,
    build_journal,
    document_number,
)
from expediter.operations.accounting.mapping import MissingMapping, UnmappedAccounts
from expediter.operations.accounting.queue import (
    HeldEntry,
    HoldState,
    InMemoryJournalQueue,
    JournalQueue,
    StoredJournalQueue,
)

__all__ = [
    "AccountRole",
    "CloseStatus",
    "DrawerCount",
    "HeldEntry",
    "HoldState",
    "InMemoryJournalQueue",
    "JournalEntry",
    "JournalLine",
    "JournalOutcome",
    "JournalQueue",
    "JournalSettings",
    "JournalStatistics",
    "MissingMapping",
    "StoredJournalQueue",
    "UnbalancedEntry",
    "UnmappedAccounts",
    "balanced",
    "build_journal",
    "close_journal",
    "document_number",
    "release_held",
    "resolve_held",
]
