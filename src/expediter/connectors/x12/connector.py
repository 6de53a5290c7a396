"""The ``x12`` connector: a vendor that trades X12 EDI (or CSV invoices) over SFTP.

It reads what the vendor sends (810 and 880 invoices, 855 acknowledgements, 997s; CSV invoices
with ``format = "csv-invoice"``) into the canonical model and answers every interchange with a
997; it writes 850 purchase orders. Matching, exceptions and booking are the engine's
(:mod:`expediter.engine.purchasing`) with :mod:`expediter.operations.purchasing`: the connector
only reads and writes the formats.
"""

from __future__ import annotations

from typing import Any

from expediter.connectors.x12.config import X12Settings
from expediter.connectors.x12.mapping import VendorFile, purchase_order_file, read_vendor_file
from expediter.formats.x12 import ControlNumbers, InMemoryControlNumbers
from expediter.model.vendors import PurchaseOrder
from expediter.plugin import (
    Capability,
    ConfigError,
    Connector,
    ConnectorContext,
    ExportRequest,
    OutputFile,
    RejectedInput,
    TerminalError,
    connector_settings,
)

READS = frozenset({"invoice", "po_ack", "x12"})
CONTROL_NUMBERS = "x12_control_numbers"
PURCHASE_ORDERS = "purchase_orders"
"""``ExportRequest.extra`` key (or a hub service): the purchase orders to send, canonical."""


def settings_for(ctx: ConnectorContext) -> X12Settings:
    return connector_settings(ctx, X12Settings)


def control_numbers(ctx: ConnectorContext) -> ControlNumbers:
    numbers = ctx.services.extra.get(CONTROL_NUMBERS)
    if numbers is None:  # reading by hand: 997s are written but not sent, numbers need not persist
        return InMemoryControlNumbers()
    found: ControlNumbers = numbers
    return found


class X12Reader:
    """Reads an arriving vendor file into the model (see :class:`~.mapping.VendorFile`)."""

    def __init__(self, ctx: ConnectorContext) -> None:
        self.ctx = ctx
        self.settings = settings_for(ctx)

    def read_file(self, name: str, data: bytes, fmt: str) -> VendorFile:
        return read_vendor_file(name, data, fmt, self.settings, self.ctx.system.id, control_numbers(self.ctx))

    def read(self, data: str, payload: bytes) -> int:
        """The importer check: how many documents the file holds; ``RejectedInput`` when none can be read."""
        if data not in READS:
            raise TerminalError(f"the x12 connector reads {', '.join(sorted(READS))} files, not {data!r}")
        found = self.read_file("file", payload, "x12")
        if found.errors and not (found.invoices or found.acknowledgements):
            first = found.errors[0]
            raise RejectedInput(first.message, where=first.position.describe(), fix=first.fix)
        return found.documents


class X12Exporter:
    """``purchase_order`` → one 850 interchange per purchase order."""

    def __init__(self, ctx: ConnectorContext) -> None:
        self.ctx = ctx
        self.settings = settings_for(ctx)

    def export(self, data: str, request: ExportRequest) -> list[OutputFile]:
        if data != "purchase_order":
            raise TerminalError(f"the x12 connector writes purchase_order files, not {data!r}")
        if not self.settings.partner_id:
            raise ConfigError(
                f"systems[{self.ctx.system.id}].settings.partner_id: the vendor's interchange id is needed to"
                " send 850s (ask the vendor for its ISA id)"
            )
        orders = self._orders(request)
        numbers = control_numbers(self.ctx)
        files = []
        for order in orders:
            name, body = purchase_order_file(order, self.settings, numbers)
            files.append(
                OutputFile(name=name, data=body, records=len(order.lines), content_type="application/edi-x12")
            )
        return files

    def _orders(self, request: ExportRequest) -> list[PurchaseOrder]:
        given: Any = request.extra.get(PURCHASE_ORDERS)
        if given is None:
            source = self.ctx.services.extra.get(PURCHASE_ORDERS)
            if source is None:
                raise TerminalError("no purchase orders to send: the hub's purchasing service is not running")
            given = source(self.ctx.system, request)
        return list(given)


CONNECTOR = Connector(
    name="x12",
    title="X12 EDI vendor",
    capabilities=frozenset({Capability.EXPORT}),
    settings_type=X12Settings,
    make_exporter=X12Exporter,
    make_importer=X12Reader,
    reads=READS,
    description=(
        "A foodservice distributor over X12 EDI: 850 purchase orders out; 855 acknowledgements, 810/880"
        " invoices and CSV invoices in, each interchange answered with a 997."
    ),
)
