"""The ledger of transfers: every execution of every flow, when, how, what and with what outcome,
and the lineage that links each transfer to the messages it carried."""

from expediter.ledger.ledger import FlowSummary, Ledger
from expediter.ledger.lineage import Link, LinkRole, LinkRow, TransferInputs, inputs_digest, inputs_of
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
    "Link",
    "LinkRole",
    "LinkRow",
    "Transfer",
    "TransferInputs",
    "TransferOutcome",
    "checksum_of",
    "inputs_digest",
    "inputs_of",
    "insert_transfer",
    "outcomes_asked",
]
