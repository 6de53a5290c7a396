"""Strict twins of the canonical types: the same fields, refusing a field the model does not know.

The canonical types ignore unknown fields (a sender's extra field must not cost the kitchen its
order). To *see* one without paying for it, a payload is decoded with :func:`strict_twin` of its
type: a subclass of the type (and of every struct it holds) with ``forbid_unknown_fields``, so
msgspec itself stops at the first unknown field and names its path
(``Object contains unknown field `alergy_note` - at `$.lines[0]```), at the cost of the decode
it replaces. What it returns is an instance of the canonical type's subclass, with its fields in the
same order, so it encodes byte for byte as the canonical type does.

:class:`~expediter.model.money.Money` keeps its own type: it is the default of many fields, and a
twin would not compare equal to that default, so ``omit_defaults`` would stop leaving it out.

A ground-floor module: it imports nothing of Expediter but the model.
"""

from __future__ import annotations

import re
import sys
import typing
from functools import cache
from typing import Any, TypeVar

import msgspec
from msgspec import inspect as msgspec_inspect

from expediter.model.money import Money

T = TypeVar("T", bound=msgspec.Struct)
UNKNOWN_FIELD = "Object contains unknown field"
"""How msgspec's error starts when a strict twin met a field its type does not know."""
_KEPT: tuple[type[msgspec.Struct], ...] = (Money,)
_module = sys.modules[__name__]
_UNION: Any = typing.Union
_GENERICS: dict[Any, Any] = {list: typing.List, dict: typing.Dict, typing.Union: _UNION}  # noqa: UP006
"""typing's own generics, which resolve the forward references a type holding itself needs."""


@cache
def strict_twin(struct: type[T]) -> type[T]:
    """The strict twin of ``struct`` (built once, then cached)."""
    made: dict[type, Any] = {}
    twin: type[T] = _twin(struct, made)
    return twin


def _twin(struct: type[msgspec.Struct], made: dict[type, Any]) -> Any:
    if struct in made:
        found = made[struct]
        return found if isinstance(found, type) else typing.ForwardRef(found)
    name = f"Strict{struct.__name__}"
    made[struct] = name  # a type that holds itself (a modifier's modifiers) refers to the name
    hints = typing.get_type_hints(struct, include_extras=True)
    info = {field.name: field for field in _fields(struct)}
    fields = [_field(name_, _rewrite(hints[name_], made), info[name_]) for name_ in struct.__struct_fields__]
    twin = msgspec.defstruct(
        name, fields, bases=(struct,), forbid_unknown_fields=True, module=__name__, kw_only=True
    )
    setattr(_module, name, twin)  # so the names in forward references resolve
    made[struct] = twin
    return twin


def _fields(struct: type[msgspec.Struct]) -> tuple[msgspec_inspect.Field, ...]:
    info = msgspec_inspect.type_info(struct)
    assert isinstance(info, msgspec_inspect.StructType)
    return info.fields


def _field(name: str, annotation: Any, info: msgspec_inspect.Field) -> tuple[Any, ...]:
    if info.default is not msgspec.NODEFAULT:
        return (name, annotation, info.default)
    if info.default_factory is not msgspec.NODEFAULT:
        return (name, annotation, msgspec.field(default_factory=info.default_factory))
    return (name, annotation)


def _rewrite(annotation: Any, made: dict[type, Any]) -> Any:
    """``annotation`` with every struct in it (but :data:`_KEPT`) replaced by its twin."""
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return annotation if issubclass(annotation, _KEPT) else _twin(annotation, made)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is None or origin is typing.Annotated or not args:
        return annotation
    rewritten = tuple(_rewrite(arg, made) for arg in args)
    if all(new is old for new, old in zip(rewritten, args, strict=True)):
        return annotation
    generic = _GENERICS.get(origin) or (_UNION if str(origin) == "<class 'types.UnionType'>" else None)
    if generic is not None:
        return generic[rewritten if generic is _UNION else rewritten[0] if len(rewritten) == 1 else rewritten]
    raise TypeError(f"a strict twin cannot rewrite {annotation!r}")


def is_unknown_field(error: msgspec.ValidationError) -> bool:
    return str(error).startswith(UNKNOWN_FIELD)


@cache
def known_path(struct: type[msgspec.Struct], path: str) -> bool:
    """Whether the model of ``struct`` has the field at ``path`` (``$.lines[].modifiers[].name``:
    a ``[]`` step goes into a list's items)."""
    current: msgspec_inspect.Type = msgspec_inspect.type_info(struct)
    for step in _steps(path):
        current = _unwrapped(current)
        if step == "[]":
            if not isinstance(current, msgspec_inspect.ListType | msgspec_inspect.SetType):
                return False
            current = current.item_type
            continue
        if isinstance(current, msgspec_inspect.DictType):
            current = current.value_type
            continue
        if not isinstance(current, msgspec_inspect.StructType):
            return False
        field = next((f for f in current.fields if f.encode_name == step), None)
        if field is None:
            return False
        current = field.type
    return True


_STEP = re.compile(r"\[\]|[^.\[\]]+")


def _steps(path: str) -> list[str]:
    """``$.lines[].name`` → ``lines``, ``[]``, ``name``."""
    return _STEP.findall(path.removeprefix("$"))


def _unwrapped(kind: msgspec_inspect.Type) -> msgspec_inspect.Type:
    """The type an optional field holds (``Comp | None`` is ``Comp`` here)."""
    if isinstance(kind, msgspec_inspect.UnionType):
        inner = [t for t in kind.types if not isinstance(t, msgspec_inspect.NoneType)]
        if len(inner) == 1:
            return inner[0]
    return kind


def with_unknown_fields(raw: bytes, canonical: bytes, model: type[msgspec.Struct]) -> bytes:
    """``canonical`` (the hub's encoding of a payload) with the fields of ``raw`` that ``model``
    does not know put back where they were: stored so, nothing a sender wrote is lost, and every
    reader of the model still reads it (the canonical types ignore what they do not know)."""
    kept = msgspec.json.decode(canonical)
    _keep(msgspec.json.decode(raw), kept, model, "$")
    return msgspec.json.encode(kept)


def _keep(raw: Any, kept: Any, model: type[msgspec.Struct], path: str) -> None:
    if isinstance(raw, dict) and isinstance(kept, dict):
        for key, value in raw.items():
            child = f"{path}.{key}"
            if not known_path(model, child):
                kept[key] = value
            elif key in kept:
                _keep(value, kept[key], model, child)
    elif isinstance(raw, list) and isinstance(kept, list) and len(raw) == len(kept):
        for raw_item, kept_item in zip(raw, kept, strict=True):
            _keep(raw_item, kept_item, model, f"{path}[]")
