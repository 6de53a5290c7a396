from __future__ import annotations

from pathlib import Path

import pytest

from expediter.catalog.load import load_catalog
from expediter.catalog.problems import CatalogError
from expediter.catalog.schema import Level
from tests.catalog.helpers import VALID, replaced, write_catalog


def test_a_valid_catalog_loads(tmp_path: Path) -> None:
    catalog = load_catalog(write_catalog(tmp_path))
    assert [s.id for s in catalog.systems] == ["pos", "back_office"]
    assert catalog.flows[0].from_ == "pos"
    assert catalog.flows[1].level == Level.REALTIME


def problems_of(path: Path) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    return [str(p) for p in caught.value.problems]


def test_missing_owner_names_the_path_and_the_flow(tmp_path: Path) -> None:
    text = replaced('transport = "http"\nowner = "Dana"', 'transport = "http"')
    [problem] = problems_of(write_catalog(tmp_path, text))
    assert "$.flows[1].owner" in problem
    assert "(flow orders)" in problem
    assert "missing required key `owner`" in problem
    assert "add `owner = ...`" in problem


def test_every_structural_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = replaced('level = "realtime"', 'level = "instant"')
    text = replaced('kind = "back_office"', 'kind = "back_office"\ncolour = "blue"', text)
    problems = problems_of(write_catalog(tmp_path, text))
    assert len(problems) == 2
    assert any("$.flows[1].level" in p and "Invalid enum value 'instant'" in p for p in problems)
    assert any(
        "$.systems[1]" in p and "unknown key `colour`" in p and "system back_office" in p for p in problems
    )


def test_a_wrong_type_says_what_to_write(tmp_path: Path) -> None:
    text = replaced("[hub]\n", '[hub]\nport = "eighty"\n')
    [problem] = problems_of(write_catalog(tmp_path, text))
    assert "$.hub.port" in problem
    assert "write a whole number here instead of a quoted string" in problem


def test_toml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    text = VALID.replace('name = "Main"', 'name = Main"')
    [problem] = problems_of(write_catalog(tmp_path, text))
    line = VALID.splitlines().index('name = "Main"') + 1
    assert f"line {line}, column" in problem
    assert "TOML syntax error" in problem


def test_an_unknown_section_is_named(tmp_path: Path) -> None:
    [problem] = problems_of(write_catalog(tmp_path, VALID + "\n[[flow]]\nid = 'x'\n"))
    assert "unknown section `flow`" in problem


def test_a_missing_file_suggests_init(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path / "nope.toml")
    assert "expediter init" in problem


def test_every_mistake_of_one_entry_is_reported_with_its_own_path(tmp_path: Path) -> None:
    text = replaced(
        'level = "realtime"\ntrigger = "event"', 'level = "instant"\ntrigger = "evnt"\ncolour = 1'
    )
    text = replaced('transport = "http"\nowner = "Dana"', "transport = 80", text)
    problems = problems_of(write_catalog(tmp_path, text))
    places = sorted(p.split(" (flow orders)")[0].split(": ", 1)[1] for p in problems)
    assert places == [
        "$.flows[1].colour",
        "$.flows[1].level",
        "$.flows[1].owner",
        "$.flows[1].transport",
        "$.flows[1].trigger",
    ]
    [level] = [p for p in problems if "$.flows[1].level" in p]
    assert "fix: use one of: manual, file, realtime" in level


def test_every_mistake_of_a_table_and_its_maps_is_reported(tmp_path: Path) -> None:
    text = replaced("[hub]\n", '[hub]\nport = "eighty"\nhost = 127\n')
    text += '\n[mappings.category_accounts]\nFood = 4000\nBeverage = "4100"\nAlcohol = 4200\n'
    problems = problems_of(write_catalog(tmp_path, text))
    for where in ("$.hub.port", "$.hub.host", "$.mappings.category_accounts.Food"):
        assert any(where in p for p in problems), where
    assert any("$.mappings.category_accounts.Alcohol" in p for p in problems)
    assert len(problems) == 4


def test_a_json_catalog_reports_every_problem_too(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(
        '{"locations": [{"id": "L1", "name": "Downtown", "timezone": 5}],'
        ' "systems": [{"id": "pos", "kind": "pos", "connector": "generic_pos"}], "flow": []}'
    )
    problems = problems_of(path)
    assert len(problems) == 3
    assert any("$.locations[0].timezone" in p for p in problems)
    assert any("$.systems[0].owner" in p and "missing required key" in p for p in problems)
    assert any("unknown section `flow`" in p for p in problems)
