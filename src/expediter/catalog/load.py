"""Read ``expediter.toml`` into a :class:`~expediter.catalog.schema.Catalog`, collecting every problem.

msgspec stops at the first error, so each section and each entry of a list is converted on its own:
a catalog with three mistakes reports three problems at once, each with its ``$.flows[3].owner`` path
and the id of the flow or system concerned.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import msgspec

from expediter.catalog.problems import CatalogError, Problem
from expediter.catalog.schema import (
    AlertChannel,
    AlertRoute,
    ApiToken,
    Catalog,
    Flow,
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
TABLE_SECTIONS: dict[str, type[msgspec.Struct]] = {"hub": Hub, "mappings": Mappings}
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


def load_catalog(path: str | Path) -> Catalog:
    """The catalog in ``path``; :class:`CatalogError` listing every structural problem otherwise."""
    file = Path(path)
    raw = read_toml(file)
    problems: list[Problem] = []
    sections: dict[str, Any] = {}
    for key, value in raw.items():
        if key in LIST_SECTIONS:
            sections[key] = _convert_list(str(file), key, value, problems)
        elif key in TABLE_SECTIONS:
            sections[key] = _convert_one(str(file), f"$.{key}", value, TABLE_SECTIONS[key], "", problems)
        else:
            problems.append(_unknown_section(str(file), key))
    if problems:
        raise CatalogError(problems)
    return Catalog(**{k: v for k, v in sections.items() if v is not None})


def read_toml(file: Path) -> dict[str, Any]:
    """Parse the TOML; a syntax error becomes a problem with its line and column."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(
            [
                Problem(
                    file=str(file),
                    where="(file)",
                    message=f"cannot read the catalog: {exc.strerror or exc}",
                    fix="check the path, or create a starter catalog with `expediter init`",
                )
            ]
        ) from exc
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


def _convert_list(file: str, key: str, value: Any, problems: list[Problem]) -> list[msgspec.Struct] | None:
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
        subject = _subject(key, entry)
        item = _convert_one(file, f"$.{key}[{index}]", entry, LIST_SECTIONS[key], subject, problems)
        if item is not None:
            items.append(item)
    return items


def _subject(section: str, entry: Any) -> str:
    if isinstance(entry, dict):
        ident = entry.get("id") or entry.get("name")
        if isinstance(ident, str) and ident:
            return f"{_SUBJECT_WORD[section]} {ident}"
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
        problems.append(_validation_problem(file, base, str(exc), kind, subject))
        return None


def _validation_problem(
    file: str, base: str, message: str, kind: type[msgspec.Struct], subject: str
) -> Problem:
    found = _AT_PATH.search(message)
    inner = found["path"] if found else ""
    text = _AT_PATH.sub("", message)
    where = base + inner
    missing = re.match(r"Object missing required field `(\w+)`", text)
    if missing:
        where = f"{where}.{missing[1]}"
    return Problem(
        file=file,
        where=where,
        message=_plain(text),
        fix=fix_for(text, kind),
        subject=subject,
    )


def _plain(text: str) -> str:
    return text.replace("Object missing required field", "missing required key").replace(
        "Object contains unknown field", "unknown key"
    )


def fix_for(text: str, kind: type[msgspec.Struct]) -> str:
    """A fix for a msgspec error message, in the words of the TOML file."""
    missing = re.match(r"Object missing required field `(\w+)`", text)
    if missing:
        return f"add `{missing[1]} = ...` to this entry (see docs/catalog.md for what it means)"
    unknown = re.match(r"Object contains unknown field `(\w+)`", text)
    if unknown:
        return f"remove `{unknown[1]}` or correct its spelling (see docs/catalog.md for the keys)"
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
