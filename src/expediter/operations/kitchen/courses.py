"""Courses: a starter goes to the line at once, the mains wait until the server fires them.

``CourseMode`` says who fires a held course: a person (``hold``: a screen button or
``POST /api/v1/kds/fire``), nobody because nothing is held (``immediate``), or the kitchen itself
when every ticket of the previous course was bumped (``on_bump``).
"""

from __future__ import annotations

from expediter.model.order import LineKind, Order
from expediter.operations.kitchen.routing import first_course


def courses_of(order: Order) -> set[int]:
    """Every course number on the order's kitchen lines."""
    return {line.course for line in order.lines if line.course is not None and line.kind is LineKind.ITEM}


def held_courses(order: Order, fired: set[int]) -> list[int]:
    """Courses still waiting, in the order they will be fired."""
    first = first_course(order)
    return sorted(c for c in courses_of(order) if c != first and c not in fired)


def next_held_course(order: Order, fired: set[int]) -> int | None:
    held = held_courses(order, fired)
    return held[0] if held else None
