"""Each kind of catalog mistake: its message, where it is, the fix, and exit code 1 from ``check``."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from expediter.catalog.load import load_catalog
from expediter.catalog.problems import Problem, Severity, errors
from expediter.check.catalog import check_catalog
from expediter.cli import app
from tests.catalog.helpers import SECRET_ENV, SERVER_KEY, VALID, replaced, write_catalog

ORDERS_FLOW = 'id = "orders"'
STARTER_PLACEHOLDER = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIReplaceWithTheOutputOfSshKeyscan"

MISTAKES = [
    pytest.param(
        ('description = "Each order, as the POS rings it."\n', ""),
        "$.flows[1].description",
        "the flow has no description",
        id="flow-without-description",
    ),
    pytest.param(
        ('impact = "The back office misses orders."', 'impact = " "'),
        "$.flows[1].impact",
        "the flow has no impact",
        id="flow-without-impact",
    ),
    pytest.param(
        ('contact = "+1 212 555 0100"', 'contact = "Dana, ask at the bar"'),
        "$.flows[1].contact",
        "contact 'Dana, ask at the bar' reaches nobody: its owner (Dana) cannot be reached",
        id="contact-that-reaches-nobody",
    ),
    pytest.param(
        ('contact = "+1 212 555 0100"\n', ""),
        "$.flows[1].contact",
        "the flow has no contact",
        id="flow-without-contact",
    ),
    pytest.param(
        ('owner = "Dana"\ncontact', 'owner = "Dana"\ndrill_schedule = "every tuesday"\ncontact'),
        "$.flows[1].drill_schedule",
        "has 2 field(s)",
        id="bad-drill-schedule",
    ),
    pytest.param(
        ('channels = ["log"]', 'channels = ["log"]\nescalate_to = ["gm-phone"]\nrepeat_minutes = -5'),
        "$.alert_routes[0].escalate_to",
        "unknown alert channel 'gm-phone'",
        id="unknown-escalation-channel",
    ),
    pytest.param(
        ('channels = ["log"]', 'channels = ["log"]\nrepeat_minutes = -5'),
        "$.alert_routes[0].repeat_minutes",
        "repeat_minutes is negative",
        id="negative-repeat",
    ),
    pytest.param(
        ('id = "log"\nkind = "log"', 'id = "log"\nkind = "slack"\ntarget = "hooks.slack.com/services/T/B/x"'),
        "$.alert_channels[0].target",
        "a slack channel needs a URL",
        id="slack-without-url",
    ),
    pytest.param(
        ('id = "log"\nkind = "log"', 'id = "log"\nkind = "slack"\ntarget = "env:TEST_UNSET_SLACK_URL"'),
        "$.alert_channels[0].target",
        "environment variable TEST_UNSET_SLACK_URL is not set",
        id="slack-url-not-set",
    ),
    pytest.param(
        (
            'from = "pos"\nto = "back_office"\ndata = "orders"',
            'from = "poss"\nto = "back_office"\ndata = "orders"',
        ),
        "$.flows[1].from",
        "unknown system 'poss'",
        id="unknown-system",
    ),
    pytest.param(
        ('transport = "http"\nowner = "Dana"', 'transport = "http"\nowner = ""'),
        "$.flows[1].owner",
        "the flow has no owner",
        id="flow-without-owner",
    ),
    pytest.param(
        ('connector = "sftp"\nowner = "Lee"', 'connector = "sftp"\nowner = " "'),
        "$.systems[1].owner",
        "the system has no owner",
        id="system-without-owner",
    ),
    pytest.param(
        (ORDERS_FLOW, 'id = "sales"'), "$.flows[1].id", "'sales' is used twice", id="duplicate-flow"
    ),
    pytest.param(
        ('schedule = "30 4 * * *"', 'schedule = "30 25 * * *"'),
        "$.flows[0].schedule",
        "not a valid cron expression",
        id="bad-cron",
    ),
    pytest.param(
        ('schedule = "30 4 * * *"\n', ""),
        "$.flows[0].schedule",
        "a scheduled flow has no schedule",
        id="schedule-missing",
    ),
    pytest.param(
        ('timezone = "America/New_York"', 'timezone = "America/Gotham"'),
        "$.locations[0].timezone",
        "unknown time zone 'America/Gotham'",
        id="unknown-timezone",
    ),
    pytest.param(
        ('day_start = "04:00"', 'day_start = "4 am"'),
        "$.locations[0].day_start",
        "is not a local time HH:MM",
        id="bad-day-start",
    ),
    pytest.param(
        ('password = "env:TEST_BO_PASSWORD"', 'password = "env:TEST_UNSET_PASSWORD"'),
        "$.systems[1].settings.password",
        "TEST_UNSET_PASSWORD is not set",
        id="secret-unresolved",
    ),
    pytest.param(
        ('password = "env:TEST_BO_PASSWORD"', 'password = "file:secrets/bo"'),
        "$.systems[1].settings.password",
        "secrets/bo cannot be read",
        id="secret-file-missing",
    ),
    pytest.param(
        ('password = "env:TEST_BO_PASSWORD"', 'password = "letmein-literal"'),
        "$.systems[1].settings.password",
        "`password` is a secret written inline",
        id="secret-inline",
    ),
    pytest.param(
        ('connector = "sftp"\nowner = "Lee"', 'connector = "teleport"\nowner = "Lee"'),
        "$.systems[1].connector",
        "connector 'teleport' is not installed",
        id="connector-not-installed",
    ),
    pytest.param(
        ('level = "realtime"\ntrigger = "event"', 'level = "realtime"\ntrigger = "schedule"'),
        "$.flows[1].trigger",
        "a realtime flow cannot have trigger 'schedule'",
        id="level-trigger",
    ),
    pytest.param(
        ('trigger = "event"\ntransport = "http"', 'trigger = "event"\ntransport = "sftp"'),
        "$.flows[1].transport",
        "a realtime flow cannot move over 'sftp'",
        id="level-transport",
    ),
    pytest.param(
        ('transport = "folder"', 'transport = "pigeon"'),
        "$.flows[0].transport",
        "unknown transport 'pigeon'",
        id="unknown-transport",
    ),
    pytest.param(
        ('channels = ["log"]', 'channels = ["log", "pager"]'),
        "$.alert_routes[0].channels",
        "unknown alert channel 'pager'",
        id="route-unknown-channel",
    ),
    pytest.param(
        ('transport = "folder"', 'transport = "folder"\nalert_route = "night"'),
        "$.flows[0].alert_route",
        "unknown alert route 'night'",
        id="flow-unknown-route",
    ),
    pytest.param(
        ('sha256 = "sha256:2bb8', 'sha256 = "2bb8'),
        "$.api_tokens[0].sha256",
        "not stored as sha256:<64 lowercase hex digits>",
        id="token-form",
    ),
    pytest.param(
        ('sha256 = "sha256:2bb8', 'locations = ["uptown"]\nsha256 = "sha256:2bb8'),
        "$.api_tokens[0].locations",
        "unknown location 'uptown'",
        id="token-unknown-location",
    ),
    pytest.param(
        ('database = "hub.db"', 'database = "hub.db"\nallowed_hosts = ["https://hub.example.com:8443"]'),
        "$.hub.allowed_hosts[0]",
        "'https://hub.example.com:8443' is not a host name",
        id="hub-allowed-host-with-scheme",
    ),
    pytest.param(
        ('expected_by = "06:00"', 'expected_by = "6am"'),
        "$.flows[0].expected_by",
        "is not a local time HH:MM",
        id="expected-by",
    ),
    pytest.param(
        ('inbox_dir = "pos-in"', 'inbox_dr = "pos-in"'),
        "$.systems[0].settings",
        "settings for connector 'folder'",
        id="connector-settings",
    ),
    pytest.param(
        ('kind = "log"', 'kind = "pager"'),
        "$.alert_channels[0].kind",
        "unknown channel kind 'pager'",
        id="channel-kind",
    ),
    pytest.param(
        (SERVER_KEY, STARTER_PLACEHOLDER),
        "$.systems[1].settings.host_key",
        "host_key is not an OpenSSH public key line",
        id="placeholder-host-key",
    ),
    pytest.param(
        ('to = "back_office"\ndata = "orders"', 'to = "pos"\ndata = "orders"'),
        "$.flows[1].to",
        "the flow goes from a system to itself",
        id="realtime-to-itself",
    ),
    pytest.param(
        (
            'level = "realtime"\ntrigger = "event"\ntransport = "http"',
            'level = "file"\ntrigger = "file_arrival"\ntransport = "folder"',
        ),
        "$.flows[1].data",
        "nothing reads 'orders' files (format 'json'): no connector at either end reads files",
        id="file-nothing-reads",
    ),
]


@pytest.fixture
def secrets_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TEST_UNSET_PASSWORD", raising=False)


@pytest.mark.usefixtures("secrets_set")
def test_the_valid_catalog_has_no_errors(tmp_path: Path) -> None:
    path = write_catalog(tmp_path)
    assert errors(check_catalog(load_catalog(path), tmp_path, str(path))) == []


@pytest.mark.usefixtures("secrets_set")
@pytest.mark.parametrize(("change", "where", "message"), MISTAKES)
def test_each_mistake_is_reported(tmp_path: Path, change: tuple[str, str], where: str, message: str) -> None:
    path = write_catalog(tmp_path, replaced(*change))
    problems = errors(check_catalog(load_catalog(path), tmp_path, str(path)))
    matching = [p for p in problems if p.where.startswith(where) and message in p.message]
    assert matching, problems
    problem = matching[0]
    assert problem.file == str(path)
    assert problem.fix
    assert problem.subject.split(" ")[0] in {"flow", "system", "location", "alert", "api", "hub"}


@pytest.mark.usefixtures("secrets_set")
@pytest.mark.parametrize(("change", "where", "message"), MISTAKES)
def test_check_command_exits_1_with_the_message(
    tmp_path: Path, change: tuple[str, str], where: str, message: str
) -> None:
    path = write_catalog(tmp_path, replaced(*change))
    result = CliRunner().invoke(app, ["check", str(path)], terminal_width=200)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert where in result.output
    assert "fix:" in result.output


@pytest.mark.usefixtures("secrets_set")
def test_secret_values_are_never_printed(tmp_path: Path) -> None:
    text = replaced('inbox_dir = "pos-in"', 'inbox_dir = "pos-in"\napi_key = "letmein-literal"')
    path = write_catalog(tmp_path, text)
    result = CliRunner().invoke(app, ["check", str(path)], terminal_width=200)
    assert result.exit_code == 1
    assert "api_key" in result.output
    assert "letmein-literal" not in result.output
    assert SECRET_ENV["TEST_BO_PASSWORD"] not in result.output


def test_load_errors_exit_1_too(tmp_path: Path) -> None:
    path = write_catalog(tmp_path, VALID.replace('owner = "Dana"', ""))
    result = CliRunner().invoke(app, ["check", str(path)], terminal_width=200)
    assert result.exit_code == 1
    assert "$.flows[1].owner" in result.output


@pytest.mark.usefixtures("secrets_set")
def test_a_clean_catalog_prints_one_summary_line(tmp_path: Path) -> None:
    path = write_catalog(tmp_path)
    result = CliRunner().invoke(app, ["check", str(path)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("1 location(s), 2 system(s), 2 flow(s): no errors")


def test_a_broken_connector_module_breaks_only_its_systems(tmp_path: Path) -> None:
    from expediter.check.installed import Unavailable
    from expediter.check.settings import _unavailable

    broken = _unavailable(
        Unavailable(name="x", reason="SyntaxError: bad", missing_module=False),
        "$.systems[0].connector",
        "system a",
        "f",
    )
    absent = _unavailable(
        Unavailable(name="x", reason="ModuleNotFoundError", missing_module=True),
        "$.systems[0].connector",
        "system a",
        "f",
    )
    assert broken.severity == Severity.ERROR and "failed to load: SyntaxError: bad" in broken.message
    assert absent.severity == Severity.WARNING


def test_every_problem_renders_with_file_place_and_fix() -> None:
    problem = Problem(file="a.toml", where="$.flows[0].owner", subject="flow x", message="m", fix="f")
    assert str(problem) == "a.toml: $.flows[0].owner (flow x): m — fix: f"


@pytest.mark.usefixtures("secrets_set")
def test_email_channel_settings_are_checked(tmp_path: Path) -> None:
    channel = (
        '[[alert_channels]]\nid = "mail"\nkind = "email"\ntarget = "a@example.com"\n'
        '[alert_channels.settings]\nhost = "smtp.example.com"\nprot = 25\n'
    )
    path = write_catalog(tmp_path, VALID + channel)
    problems = errors(check_catalog(load_catalog(path), tmp_path, str(path)))
    assert [p.where for p in problems] == ["$.alert_channels[1].settings"]
    assert "unknown field `prot`" in problems[0].message


def test_check_lists_load_and_semantic_problems_together(tmp_path: Path) -> None:
    text = replaced('kind = "back_office"', 'kind = "backoffice"')  # this system does not load
    text = replaced('schedule = "30 4 * * *"', 'schedule = "30 4 * * * *"', text)
    text = replaced('name = "Main"', 'name = "Main"\ncolour = "red"', text)
    text = replaced(
        'from = "pos"\nto = "back_office"\ndata = "orders"',
        'from = "poss"\nto = "back_office"\ndata = "orders"',
        text,
    )
    path = write_catalog(tmp_path, text)
    result = CliRunner().invoke(app, ["check", str(path)], env=SECRET_ENV)
    assert result.exit_code == 1
    for where, message in [
        ("$.systems[1].kind", "Invalid enum value 'backoffice'"),
        ("$.locations[0].colour", "unknown key `colour`"),
        ("$.flows[0].schedule", "no seconds field"),
        ("$.flows[1].from", "unknown system 'poss'"),
    ]:
        assert where in result.output and message in result.output, (where, message)
    assert "4 error(s)" in result.output  # back_office did not load, yet it is not "unknown"


INVENTORY = """
[[systems]]
id = "inventory"
kind = "inventory"
connector = "csv"
owner = "Chef"
settings = {settings}

[[flows]]
id = "usage"
from = "pos"
to = "inventory"
data = "inventory_usage"
level = "file"
trigger = "schedule"
schedule = "0 5 * * *"
transport = "folder"
owner = "Chef"
contact = "chef@bistro.example"
description = "The night's theoretical usage."
impact = "The chef orders blind."
"""


@pytest.mark.usefixtures("secrets_set")
@pytest.mark.parametrize(
    ("settings", "book", "message"),
    [
        pytest.param('{ recipes = "recipes.toml" }', None, "there is no recipe book at", id="missing"),
        pytest.param(
            '{ recipes = "recipes.toml" }', "[ingredients.onion]\nunit = 7\n", "recipe book", id="broken"
        ),
        pytest.param("{}", None, "no recipe book, yet flow usage writes inventory_usage files", id="not-set"),
    ],
)
def test_a_recipe_book_the_hub_cannot_read_is_an_error(
    tmp_path: Path, settings: str, book: str | None, message: str
) -> None:
    path = write_catalog(tmp_path, VALID + INVENTORY.replace("{settings}", settings))
    if book is not None:
        (tmp_path / "recipes.toml").write_text(book, encoding="utf-8")
    [problem] = errors(check_catalog(load_catalog(path), tmp_path, str(path)))
    assert problem.where == "$.systems[2].settings.recipes" and problem.subject == "system inventory"
    assert message in problem.message
