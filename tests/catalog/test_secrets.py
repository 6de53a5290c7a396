from __future__ import annotations

from pathlib import Path

import pytest

from expediter.catalog.schema import ApiToken, Catalog
from expediter.catalog.secrets import (
    SecretUnavailable,
    hash_token,
    looks_secret,
    resolve_secret,
    verify_token,
)


def test_env_reference_resolves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPEDITER_TEST_SECRET", "s3cret")
    assert resolve_secret("env:EXPEDITER_TEST_SECRET", None) == "s3cret"


def test_unset_env_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXPEDITER_TEST_SECRET", raising=False)
    with pytest.raises(SecretUnavailable, match="EXPEDITER_TEST_SECRET is not set"):
        resolve_secret("env:EXPEDITER_TEST_SECRET", None)


def test_file_reference_is_relative_to_the_catalog(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "token").write_text("abc\n")
    assert resolve_secret("file:secrets/token", tmp_path) == "abc"


def test_missing_file_names_the_path_not_a_value(tmp_path: Path) -> None:
    with pytest.raises(SecretUnavailable, match="secrets/none"):
        resolve_secret("file:secrets/none", tmp_path)


def test_a_literal_is_not_a_reference() -> None:
    with pytest.raises(SecretUnavailable, match="must be a reference"):
        resolve_secret("hunter2", None)


def test_token_hash_and_verify() -> None:
    catalog = Catalog(
        api_tokens=[
            ApiToken(name="a", sha256=hash_token("token-a")),
            ApiToken(name="b", sha256=hash_token("token-b"), systems=["pos"]),
        ]
    )
    assert hash_token("x").startswith("sha256:") and len(hash_token("x")) == 7 + 64
    found = verify_token("token-b", catalog)
    assert found is not None and found.name == "b"
    assert verify_token("token-c", catalog) is None


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True),
        ("webhook_secret", True),
        ("access_token", True),
        ("api_key", True),
        ("host", False),
    ],
)
def test_secret_looking_keys(key: str, secret: bool) -> None:
    assert looks_secret(key) is secret


def test_file_references_are_read_beside_the_catalog_whatever_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from expediter.web.app import read_catalog

    site = tmp_path / "site"
    (site / "secrets").mkdir(parents=True)
    (site / "secrets" / "pos_token").write_text("from-beside-the-catalog\n")
    (site / "expediter.toml").write_text(
        '[[systems]]\nid = "pos"\nkind = "pos"\nconnector = "generic_pos"\nowner = "GM"\n'
        'settings = { url = "http://pos.test/orders", token = "file:secrets/pos_token", '
        'nested = { key = "file:secrets/pos_token" }, absolute = "file:/etc/hostname" }\n'
    )
    monkeypatch.chdir(tmp_path)  # started from somewhere else
    settings = read_catalog(site / "expediter.toml").systems[0].settings
    assert resolve_secret(settings["token"]) == "from-beside-the-catalog"
    assert resolve_secret(settings["nested"]["key"]) == "from-beside-the-catalog"
    assert settings["absolute"] == "file:/etc/hostname"
