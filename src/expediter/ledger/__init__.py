"""The ledger of transfers: every execution of every flow, when, how, what and with what outcome."""

from expediter.ledger.ledger import FlowSummary, Ledger
from expediter.ledger.transfers import Direction, Transfer, TransferOutcome, checksum_of, insert_transfer

__all__ = [
    "Direction",
    "FlowSummary",
    "Ledger",
    "Transfer",
    "TransferOutcome",
    "checksum_of",
    "insert_transfer",
]
