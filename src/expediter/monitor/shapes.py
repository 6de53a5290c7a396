"""The shape of what a source sends: which fields (or columns), of which types, always present.

A JSON payload's shape is the set of ``(path, type)`` it holds: ``$.lines[].name`` is a string,
``$.lines[]`` an object (the list has items), ``$.guest_count`` an integer. Types are JSON's
(``object``, ``array``, ``string``, ``integer``, ``number``, ``boolean``); a ``null`` counts as
absent. An object key that is an id (all digits, or a long hexadecimal/uuid run) is written ``*``,
so a map keyed by item ids is one path, not a new field per item. A file's shape is its columns,
each typed by its values (``integer``, ``number``, ``date``, ``text``; empty cells say nothing).

What a stream has sent so far is known per path as a :class:`FieldShape`: the types seen and
whether it was present every time its parent was. :func:`learn` folds a shape in;
:func:`changes` says what is new (:attr:`Change.ADDED`), missing (:attr:`Change.REMOVED`: a field
always present is not, while its parent is) or of another type (:attr:`Change.RETYPED`; an
integer where numbers were is not).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

import msgspec

from expediter.model.cards import mask_card_numbers

Shape = frozenset[tuple[str, str]]
"""(path, type) pairs of one payload."""
MAX_PATHS = 2000
"""Paths read from one payload at most (the rest are not tracked)."""
EXAMPLE_CHARACTERS = 80
_ID_KEY = re.compile(r"\d+|[0-9a-fA-F-]{16,}")
_TYPES: dict[type, str] = {
    dict: "object",
    list: "array",
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
}


class Change(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    RETYPED = "retyped"


class FieldShape(msgspec.Struct, kw_only=True):
    types: frozenset[str]
    required: bool
    """Present in every payload that had its parent."""


class FieldChange(msgspec.Struct, frozen=True, kw_only=True):
    path: str
    change: Change
    known_types: str = ""
    """The types known before (empty for a new field)."""
    seen_type: str = ""
    """The type that arrived (empty for a missing field)."""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.path, self.change.value, self.seen_type)

    def describe(self) -> str:
        if self.change is Change.ADDED:
            return f"new field {self.path} ({self.seen_type})"
        if self.change is Change.REMOVED:
            return f"{self.path} is missing (it was always sent)"
        return f"{self.path} is {self.seen_type}, was {self.known_types}"


# -- JSON -----------------------------------------------------------------------------------------


def json_shape(value: Any) -> Shape:
    """The (path, type) pairs of a decoded JSON value (walked with a stack: no call per node)."""
    found: set[tuple[str, str]] = set()
    stack = [(value, "$")]
    types, child = _TYPES, _child
    while stack and len(found) < MAX_PATHS:
        node, path = stack.pop()
        if type(node) is dict:
            items = [(child(path, key), item) for key, item in node.items()]
        else:
            inner = path + "[]"
            items = [(inner, item) for item in node]
        for at, item in items:
            kind = types.get(type(item))
            if kind is not None:  # a null is absent
                found.add((at, kind))
                if kind == "object" or kind == "array":
                    stack.append((item, at))
    return frozenset(found)


_CHILDREN: dict[tuple[str, str], str] = {}
_CHILDREN_KEPT = 100_000


def _child(path: str, key: str) -> str:
    """``path.key`` (``path.*`` for an id), remembered: the same few paths come again and again."""
    found = _CHILDREN.get((path, key))
    if found is None:
        if len(_CHILDREN) >= _CHILDREN_KEPT:
            _CHILDREN.clear()
        found = _CHILDREN[(path, key)] = f"{path}.{_key(key)}"
    return found


def _key(key: str) -> str:
    return "*" if _ID_KEY.fullmatch(key) else key


def example_at(value: Any, path: str) -> str:
    """The first value at ``path`` as text, short, card numbers masked (never a whole card
    number in the hub's records, whatever a sender wrote)."""
    found = _first_at(value, _steps(path))
    if found is _MISSING:
        return ""
    if isinstance(found, dict):
        text = "{" + ", ".join(list(found)[:5]) + (", …" if len(found) > 5 else "") + "}"
    elif isinstance(found, list):
        text = f"[{len(found)} items]"
    else:
        text = msgspec.json.encode(found).decode()
    if len(text) > EXAMPLE_CHARACTERS:
        text = text[: EXAMPLE_CHARACTERS - 1] + "…"
    return mask_card_numbers(text)


_MISSING = object()
_STEP = re.compile(r"\[\]|[^.\[\]]+")


def _steps(path: str) -> list[str]:
    return _STEP.findall(path.removeprefix("$"))


def _first_at(value: Any, steps: list[str]) -> Any:
    if not steps:
        return value
    step, rest = steps[0], steps[1:]
    if step == "[]":
        for item in value if isinstance(value, list) else []:
            found = _first_at(item, rest)
            if found is not _MISSING:
                return found
        return _MISSING
    if not isinstance(value, dict):
        return _MISSING
    for key, item in value.items():
        if _key(key) == step:
            found = _first_at(item, rest)
            if found is not _MISSING and found is not None:
                return found
    return _MISSING


# -- files ----------------------------------------------------------------------------------------


def column_type(values: Iterable[str]) -> str:
    """``integer``, ``number``, ``date`` or ``text``: the narrowest every non-empty value fits."""
    kinds = {_cell_type(v) for v in values if v}
    if not kinds:
        return ""
    if kinds <= {"integer"}:
        return "integer"
    if kinds <= {"integer", "number"}:
        return "number"
    return kinds.pop() if kinds == {"date"} else "text"


def _cell_type(text: str) -> str:
    cell = text.replace(",", "").replace("$", "").strip()
    if cell.lstrip("-").isdigit():
        return "integer"
    try:
        Decimal(cell)
    except InvalidOperation:
        pass
    else:
        return "number" if cell.lower() not in ("nan", "inf", "infinity", "-inf") else "text"
    try:
        date.fromisoformat(cell)
    except ValueError:
        return "text"
    return "date"


def columns_shape(header: list[str], rows: Iterable[list[str]]) -> tuple[Shape, dict[str, str]]:
    """The shape of a file (columns by header name, typed by their values) and one example value
    per column."""
    values: dict[str, list[str]] = {name: [] for name in header if name}
    for row in rows:
        for name, cell in zip(header, row, strict=False):
            if name and cell:
                values[name].append(cell)
    shape = frozenset((name, column_type(cells) or "empty") for name, cells in values.items())
    examples = {
        name: mask_card_numbers(cells[0][:EXAMPLE_CHARACTERS]) for name, cells in values.items() if cells
    }
    return shape, examples


# -- what a stream sent so far ----------------------------------------------------------------------


def parent(path: str) -> str:
    """``$.lines[].name`` → ``$.lines[]`` → ``$.lines`` → ``$``; a column's parent is the file."""
    if path.endswith("[]"):
        return path[:-2]
    cut = path.rfind(".")
    return path[:cut] if cut > 0 else "$"


def _present(shape: Shape) -> set[str]:
    return {path for path, _ in shape} | {"$"}


def _types(shape: Shape) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path, kind in shape:
        found.setdefault(path, set()).add(kind)
    return found


def fits(kind: str, known: frozenset[str]) -> bool:
    """An integer fits where numbers were seen; an empty column fits anything."""
    return kind in known or (kind == "integer" and "number" in known) or kind == "empty"


def learn(
    known: Mapping[str, FieldShape], shape: Shape, *, first: bool, skip: frozenset[str] = frozenset()
) -> dict[str, FieldShape]:
    """What is known once ``shape`` is folded in: new paths are required only when nothing was
    known of their parent (the first payload, or a new part of it); a required path that is
    missing under a present parent is required no longer; types add up. Paths in ``skip`` (a
    drift waiting for a person) are left as they were."""
    present, types = _present(shape), _types(shape)
    learned = dict(known)
    for path, field in known.items():
        if field.required and path not in present and parent(path) in present and path not in skip:
            learned[path] = FieldShape(types=field.types, required=False)
    for path, kinds in types.items():
        if path in skip or parent(path) in skip:
            continue
        current = learned.get(path)
        if current is None:
            fresh = first or parent(path) not in known
            learned[path] = FieldShape(types=frozenset(kinds), required=fresh)
        elif not kinds <= current.types:
            learned[path] = FieldShape(types=current.types | kinds, required=current.required)
    return learned


def changes(
    known: Mapping[str, FieldShape], shape: Shape, *, is_new: Callable[[str], bool] | None = None
) -> list[FieldChange]:
    """What ``shape`` changes against what is ``known``. ``is_new`` decides whether a path not
    known yet is a change (for a canonical model: only a field the model does not have)."""
    present, types = _present(shape), _types(shape)
    found = []
    for path, kinds in sorted(types.items()):
        field = known.get(path)
        if field is None:
            if _added(path, known, is_new):
                found.append(FieldChange(path=path, change=Change.ADDED, seen_type=",".join(sorted(kinds))))
            continue
        for kind in sorted(k for k in kinds if not fits(k, field.types)):
            found.append(
                FieldChange(
                    path=path,
                    change=Change.RETYPED,
                    known_types=",".join(sorted(field.types)),
                    seen_type=kind,
                )
            )
    for path, field in sorted(known.items()):
        if field.required and path not in present and parent(path) in present:
            found.append(
                FieldChange(path=path, change=Change.REMOVED, known_types=",".join(sorted(field.types)))
            )
    return found


def _added(path: str, known: Mapping[str, FieldShape], is_new: Callable[[str], bool] | None) -> bool:
    """A path not known is a change when it is the top of what is new: its parent is known (or,
    against a model, its parent is the model's and it is not)."""
    up = parent(path)
    if is_new is not None:
        return is_new(path) and (up == "$" or not is_new(up))
    return up == "$" or up in known


def apply(known: Mapping[str, FieldShape], change: FieldChange) -> dict[str, FieldShape]:
    """``known`` with ``change`` accepted: a new field is known (not required), a missing one is
    required no longer, a new type is one of its types."""
    learned = dict(known)
    field = learned.get(change.path)
    if change.change is Change.ADDED:
        kinds = frozenset(change.seen_type.split(","))
        learned[change.path] = FieldShape(
            types=kinds | (field.types if field else frozenset()), required=False
        )
    elif field is not None and change.change is Change.REMOVED:
        learned[change.path] = FieldShape(types=field.types, required=False)
    elif field is not None:
        learned[change.path] = FieldShape(types=field.types | {change.seen_type}, required=field.required)
    return learned
