"""The QuickBooks connector: posts the daily journal to QBO, or writes IIF for Desktop."""

from __future__ import annotations

import msgspec

from expediter.connectors.base import Capability, Connector, ConnectorContext, Outbound, Receipt
from expediter.connectors.quickbooks.client import QuickBooksClient
from expediter.connectors.quickbooks.config import SECRET_SETTINGS, QuickBooksSettings
from expediter.operations.accounting.journal import JournalEntry


class QuickBooksSink:
    """Delivers ``journal`` messages (a :class:`JournalEntry` as JSON) to QuickBooks Online."""

    def __init__(self, client: QuickBooksClient) -> None:
        self.client = client

    async def deliver(self, item: Outbound) -> Receipt:
        entry = msgspec.json.decode(item.payload, type=JournalEntry)
        posted = await self.client.post_journal(entry)
        return Receipt(
            records=len(entry.lines), bytes=len(item.payload), remote_ref=f"{posted.url}#{posted.remote_id}"
        )


def make_sink(context: ConnectorContext) -> QuickBooksSink:
    settings = msgspec.convert(context.system.settings, QuickBooksSettings)
    return QuickBooksSink(QuickBooksClient(settings))


CONNECTOR = Connector(
    name="quickbooks",
    title="QuickBooks",
    capabilities=frozenset({Capability.SINK, Capability.EXPORT}),
    settings_type=QuickBooksSettings,
    secret_settings=SECRET_SETTINGS,
    make_sink=make_sink,
    description="Daily sales journal entries: QuickBooks Online JournalEntry API, or IIF files for Desktop.",
)
