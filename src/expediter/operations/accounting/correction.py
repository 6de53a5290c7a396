"""A correcting entry: what to post so the books hold a night as it is now, not as it went out.

A night's journal posted already (a late refund, a replayed check changed it afterwards) is not
posted again in full: that would book the night twice. The correction posts only the difference,
line by line (account, memo, dimension): the new entry's amounts less the posted one's, each
difference on the side it falls. Both entries balance, so their difference does too. Its document
number is the night's with ``-C<n>`` (``DS-L001-20261126-C1``): a document of its own, recognised
again if it is posted twice.
"""

from __future__ import annotations

from expediter.model.money import Money
from expediter.operations.accounting.journal import AccountRole, JournalEntry, JournalLine, balanced

_Key = tuple[str, str, str, AccountRole]


def correction_number(document_number: str, number: int) -> str:
    return f"{document_number}-C{number}"


def _signed(entry: JournalEntry) -> dict[_Key, int]:
    """Debit positive, credit negative, per (account, memo, dimension, role)."""
    sums: dict[_Key, int] = {}
    for line in entry.lines:
        key = (line.account, line.memo, line.dimension, line.role)
        sums[key] = sums.get(key, 0) + line.debit.amount - line.credit.amount
    return sums


def _line(key: _Key, amount: int, currency: str) -> JournalLine:
    account, memo, dimension, role = key
    debit, credit = (amount, 0) if amount > 0 else (0, -amount)
    return JournalLine(
        account=account,
        debit=Money(debit, currency),
        credit=Money(credit, currency),
        memo=memo,
        dimension=dimension,
        role=role,
    )


def correction_entry(now: JournalEntry, posted: JournalEntry, number: int) -> JournalEntry | None:
    """The entry that turns ``posted`` into ``now``; ``None`` when they post the same amounts."""
    new, old = _signed(now), _signed(posted)
    lines = []
    for key in sorted(set(new) | set(old), key=lambda k: (k[0], k[1], k[2], str(k[3]))):
        difference = new.get(key, 0) - old.get(key, 0)
        if difference:
            lines.append(_line(key, difference, now.currency))
    if not lines:
        return None
    lines.sort(key=lambda ln: (ln.debit.is_zero(), ln.account, ln.memo, ln.dimension))
    return balanced(
        JournalEntry(
            location_id=now.location_id,
            business_date=now.business_date,
            document_number=correction_number(now.document_number, number),
            currency=now.currency,
            lines=lines,
            memo=f"Correction {number} of {now.document_number}: the night as the POS holds it now",
            statistics=now.statistics,
        )
    )
