"""Splitting an amount into parts without losing or making a cent.

Used wherever one amount is shared out: an order-level discount over the check's lines (so net sales
by category still add up to net sales), a tip pool over its members.
"""

from __future__ import annotations

from fractions import Fraction


def largest_remainder(total_minor: int, weights: list[Fraction] | list[int]) -> list[int]:
    """Split ``total_minor`` in proportion to non-negative ``weights``.

    Every part is first rounded toward zero, then the units left over go one each to the parts with
    the largest remainders (the earliest on ties, so the result is deterministic). The parts always
    add up to ``total_minor``; a negative total is split as the negation of its absolute value.
    """
    if total_minor < 0:
        return [-p for p in largest_remainder(-total_minor, weights)]
    weight_sum = sum((Fraction(w) for w in weights), Fraction(0))
    if weight_sum <= 0:
        raise ValueError("no positive weight to share by")
    exact = [Fraction(total_minor) * Fraction(w) / weight_sum for w in weights]
    parts = [int(e) for e in exact]
    leftover = total_minor - sum(parts)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - parts[i]), i))
    for index in order[:leftover]:
        parts[index] += 1
    return parts
