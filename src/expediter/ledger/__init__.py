"""The ledger of transfers: every execution of every flow, when, how, what and with what outcome."""

from expediter.ledger.ledger import FlowSummary, Ledger
from expediter.ledger.transfers import (
    FAILURES,
    Direction,
    Transfer,
    TransferOutcome,
    checksum_of,
    insert_transfer,
    outcomes_asked,
)

__all__ = [
    "FAILURES",
    "Direction",
    "FlowSummary",
    "Ledger",
    "Transfer",
    "TransferOutcome",
    "checksum_of",
    "insert_transfer",
    "outcomes_asked",
]
