"""Read ``expediter.toml`` into a :class:`~expediter.catalog.schema.Catalog`, collecting every problem.

msgspec stops at the first error, so each section, each entry of a list and, when an entry does not
convert, each of its keys is converted on its own: a catalog with three mistakes (in one flow or in
three) reports three problems at once, each with its ``$.flows[3].owner`` path and the id of the
flow or system concerned. :func:`load_partial` keeps the entries that did convert, so the semantic
checks still run on them (``expediter check`` lists both kinds of problem together).

A catalog may also be JSON (``.json``: the same schema, for generated catalogs); it is read the same
way.
"""

from __future__ import annotations

import re
import tomllib
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

import msgspec

from expediter.catalog.problems import CatalogError, Problem
from expediter.catalog.schema import (
    AlertChannel,
    AlertRoute,
    ApiToken,
    Catalog,
    Edge,
    Flow,
    GroupEdges,
    Hub,
    Mappings,
    System,
)
from expediter.model.location import Location

LIST_SECTIONS: dict[str, type[msgspec.Struct]] = {
    "locations": Location,
    "systems": System,
    "flows": Flow,
    "api_tokens": ApiToken,
    "alert_channels": AlertChannel,
    "alert_routes": AlertRoute,
}
TABLE_SECTIONS: dict[str, type[msgspec.Struct]] = {
    "hub": Hub,
    "mappings": Mappings,
    "edge": Edge,
    "group_edges": GroupEdges,
}
OPTIONAL_SECTIONS = frozenset({"edge", "group_edges"})
"""Tables a catalog may leave out; a JSON ``null`` there (a catalog written by msgspec) is absent."""
_SUBJECT_WORD = {
    "locations": "location",
    "systems": "system",
    "flows": "flow",
    "api_tokens": "api token",
    "alert_channels": "alert channel",
    "alert_routes": "alert route",
}
_AT_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_LINE_COLUMN = re.compile(r"\(at line (?P<line>\d+), column (?P<column>\d+)\)")


class Loaded(msgspec.Struct, kw_only=True):
    """What could be read of a catalog file."""

    catalog: Catalog | None
    """The entries that converted (``None`` when the file cannot be read or parsed at all)."""
    problems: list[Problem]
    undecoded: dict[str, set[str]]
    """Per section (``systems``), the ids of entries that did not convert: they are declared, so a
    reference to one is not "unknown"; their own problems are in ``problems``."""


def load_catalog(path: str | Path) -> Catalog:
    """The catalog in ``path``; :class:`CatalogError` listing every structural problem otherwise."""
    loaded = load_partial(path)
    if loaded.problems or loaded.catalog is None:
        raise CatalogError(loaded.problems)
    return loaded.catalog


def load_partial(path: str | Path) -> Loaded:
    """Every structural problem of the catalog in ``path``, and the catalog of what converted."""
    file = Path(path)
    try:
        raw = read_json(file) if file.suffix == ".json" else read_toml(file)
    except CatalogError as exc:
        return Loaded(catalog=None, problems=exc.problems, undecoded={})
    problems: list[Problem] = []
    undecoded: dict[str, set[str]] = {}
    sections: dict[str, Any] = {}
    for key, value in raw.items():
        if key in LIST_SECTIONS:
            sections[key] = _convert_list(str(file), key, value, problems, undecoded.setdefault(key, set()))
        elif value is None and key in OPTIONAL_SECTIONS:
            continue
        elif key in TABLE_SECTIONS:
            sections[key] = _convert_one(str(file), f"$.{key}", value, TABLE_SECTIONS[key], "", problems)
        else:
            problems.append(_unknown_section(str(file), key))
    catalog = Catalog(**{k: v for k, v in sections.items() if v is not None})
    return Loaded(catalog=catalog, problems=problems, undecoded=undecoded)


def read_json(file: Path) -> dict[str, Any]:
    """A JSON catalog as plain values; unreadable or malformed JSON is one problem."""
    try:
        raw = msgspec.json.decode(file.read_bytes())
    except OSError as exc:
        raise CatalogError([_unreadable(file, exc)]) from exc
    except msgspec.DecodeError as exc:
        raise CatalogError(
            [
                Problem(
                    file=str(file),
                    where="(syntax)",
                    message=f"JSON syntax error: {exc}",
                    fix="correct the JSON",
                )
            ]
        ) from exc
    if not isinstance(raw, dict):
        raise CatalogError(
            [Problem(file=str(file), where="$", message="a catalog is a JSON object", fix="write {...}")]
        )
    return raw


def _unreadable(file: Path, exc: OSError) -> Problem:
    return Problem(
        file=str(file),
        where="(file)",
        message=f"cannot read the catalog: {exc.strerror or exc}",
        fix="check the path, or create a starter catalog with `expediter init`",
    )


def read_toml(file: Path) -> dict[str, Any]:
    """Parse the TOML; a syntax error becomes a problem with its line and column."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError([_unreadable(file, exc)]) from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError([_syntax_problem(str(file), str(exc))]) from exc


def _syntax_problem(file: str, message: str) -> Problem:
    found = _LINE_COLUMN.search(message)
    where = f"line {found['line']}, column {found['column']}" if found else "(syntax)"
    return Problem(
        file=file,
        where=where,
        message=f"TOML syntax error: {_LINE_COLUMN.sub('', message).strip()}",
        fix="correct the TOML at that line (strings need quotes, tables [name], lists [[name]])",
    )


def _unknown_section(file: str, key: str) -> Problem:
    known = ", ".join(sorted([*LIST_SECTIONS, *TABLE_SECTIONS]))
    return Problem(
        file=file,
        where=f"$.{key}",
        message=f"unknown section `{key}`",
        fix=f"remove it or correct its spelling; the sections are: {known}",
    )


def _convert_list(
    file: str, key: str, value: Any, problems: list[Problem], undecoded: set[str]
) -> list[msgspec.Struct] | None:
    if not isinstance(value, list):
        problems.append(
            Problem(
                file=file,
                where=f"$.{key}",
                message=f"`{key}` must be a list of tables",
                fix=f"write each entry as its own [[{key}]] table",
            )
        )
        return None
    items = []
    for index, entry in enumerate(value):
        ident = _ident(entry)
        subject = f"{_SUBJECT_WORD[key]} {ident}" if ident else ""
        item = _convert_one(file, f"$.{key}[{index}]", entry, LIST_SECTIONS[key], subject, problems)
        if item is not None:
            items.append(item)
        elif ident:
            undecoded.add(ident)
    return items


def _ident(entry: Any) -> str:
    """The entry's ``id`` (``name`` for API tokens), when it has one that is a string."""
    if isinstance(entry, dict):
        ident = entry.get("id") or entry.get("name")
        if isinstance(ident, str):
            return ident
    return ""


def _convert_one(
    file: str,
    base: str,
    value: Any,
    kind: type[msgspec.Struct],
    subject: str,
    problems: list[Problem],
) -> msgspec.Struct | None:
    try:
        return msgspec.convert(value, kind, from_attributes=False)
    except msgspec.ValidationError as exc:
        found = decode_problems(value, kind, base) or [(base, str(exc))]
        problems.extend(_validation_problem(file, where, text, kind, subject) for where, text in found)
        return None


def decode_problems(value: Any, kind: Any, at: str) -> list[tuple[str, str]]:
    """Every ``(path, msgspec message)`` converting ``value`` to ``kind`` meets: a table's keys, a
    list's items and a map's values are converted one by one, so one mistake does not hide the next."""
    try:
        msgspec.convert(value, kind, from_attributes=False)
    except msgspec.ValidationError as exc:
        found = _parts_problems(value, kind, at)
        return found if found else [(at, str(exc))]
    return []


def _parts_problems(value: Any, kind: Any, at: str) -> list[tuple[str, str]]:
    if isinstance(kind, type) and issubclass(kind, msgspec.Struct) and isinstance(value, dict):
        return _struct_problems(value, kind, at)
    if isinstance(kind, type) and issubclass(kind, Enum) and isinstance(value, str):
        return [(at, f"Invalid enum value {value!r}, expected one of: {', '.join(m.value for m in kind)}")]
    origin, args = get_origin(kind), get_args(kind)
    if origin is list and isinstance(value, list):
        return [p for i, item in enumerate(value) for p in decode_problems(item, args[0], f"{at}[{i}]")]
    if origin is dict and isinstance(value, dict) and len(args) == 2:
        return [p for key, item in value.items() for p in decode_problems(item, args[1], f"{at}.{key}")]
    return []


def _struct_problems(value: dict[str, Any], kind: type[msgspec.Struct], at: str) -> list[tuple[str, str]]:
    fields = {field.encode_name: field for field in msgspec.structs.fields(kind)}
    found: list[tuple[str, str]] = []
    if kind.__struct_config__.forbid_unknown_fields:
        found += [(at, f"Object contains unknown field `{key}`") for key in value if key not in fields]
    for name, field in fields.items():
        if name in value:
            found += decode_problems(value[name], field.type, f"{at}.{name}")
        elif field.required:
            found.append((at, f"Object missing required field `{name}`"))
    return found


def _validation_problem(
    file: str, base: str, message: str, kind: type[msgspec.Struct], subject: str
) -> Problem:
    found = _AT_PATH.search(message)
    inner = found["path"] if found else ""
    text = _AT_PATH.sub("", message)
    where = base + inner
    missing = re.match(r"Object missing required field `([^`]+)`", text)
    if missing:
        where = f"{where}.{missing[1]}"
    unknown = re.match(r"Object contains unknown field `([^`]+)`", text)
    if unknown:
        where = f"{where}.{unknown[1]}"
    return Problem(
        file=file,
        where=where,
        message=_plain(text),
        fix=fix_for(text, kind),
        subject=subject,
    )


def _plain(text: str) -> str:
    text = re.sub(r", expected one of: .*$", "", text)  # the choices go in the fix
    return text.replace("Object missing required field", "missing required key").replace(
        "Object contains unknown field", "unknown key"
    )


def fix_for(text: str, kind: type[msgspec.Struct]) -> str:
    """A fix for a msgspec error message, in the words of the TOML file."""
    missing = re.match(r"Object missing required field `([^`]+)`", text)
    if missing:
        return f"add `{missing[1]} = ...` to this entry (see docs/catalog.md for what it means)"
    unknown = re.match(r"Object contains unknown field `([^`]+)`", text)
    if unknown:
        return f"remove `{unknown[1]}` or correct its spelling (see docs/catalog.md for the keys)"
    choices = re.match(r"Invalid enum value .+, expected one of: (.+)", text)
    if choices:
        return f"use one of: {choices[1]}"
    enum = re.match(r"Invalid enum value (.+)", text)
    if enum:
        return "use one of the values listed in docs/catalog.md for this key"
    expected = re.match(r"Expected `([^`]+)`, got `([^`]+)`", text)
    if expected:
        return f"write a {_toml_type(expected[1])} here instead of a {_toml_type(expected[2])}"
    return f"correct this value (see the `{kind.__name__}` keys in docs/catalog.md)"


def _toml_type(name: str) -> str:
    words = {
        "str": "quoted string",
        "int": "whole number",
        "bool": "true/false",
        "array": "list [..]",
        "object": "table",
        "float": "number",
    }
    return " or ".join(words.get(part.strip(), part.strip()) for part in name.split("|"))
