"""The X12 kit: read any interchange (separators from its ISA), map 810/880/855/850/997 to the
canonical model, write 850 purchase orders and 997 acknowledgements.

``read_documents(data)`` is the entry point for received files; ``po_transaction`` and
``interchange`` write; ``functional_ack`` answers what was received.
"""

from expediter.formats.x12.control import ControlNumbers, InMemoryControlNumbers, next_control_number
from expediter.formats.x12.documents import Document, DocumentKind, ReadFile, read_documents
from expediter.formats.x12.errors import Position, Severity, X12Error, X12Problem
from expediter.formats.x12.fa import functional_ack
from expediter.formats.x12.po import po_transaction
from expediter.formats.x12.reader import X12File, read_x12
from expediter.formats.x12.writer import Envelope, interchange

__all__ = [
    "ControlNumbers",
    "Document",
    "DocumentKind",
    "Envelope",
    "InMemoryControlNumbers",
    "Position",
    "ReadFile",
    "Severity",
    "X12Error",
    "X12File",
    "X12Problem",
    "functional_ack",
    "interchange",
    "next_control_number",
    "po_transaction",
    "read_documents",
    "read_x12",
]
