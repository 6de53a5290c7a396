"""Every CSV layout has its page in docs/layouts/, naming its version and every column."""

from __future__ import annotations

import pytest

from expediter.connectors.adp.formats import ADP_EPI
from expediter.connectors.paychex.formats import SPI
from expediter.formats.csv import LAYOUTS, Layout
from tests.fixtures_path import REPO_ROOT


@pytest.mark.parametrize("layout", list(LAYOUTS.values()), ids=lambda layout: layout.name)
def test_every_layout_has_a_page_with_every_column(layout: Layout) -> None:
    page = (REPO_ROOT / "docs" / "layouts" / f"{layout.name}.md").read_text()
    assert f"`{layout.name}` v{layout.version}" in page
    for column in layout.columns:
        assert f"| `{column.name}` |" in page, column.name
    assert ",".join(layout.header) in page  # the example's header row


@pytest.mark.parametrize("layout", [ADP_EPI, SPI], ids=lambda layout: layout.name)
def test_payroll_file_headers_are_documented(layout: Layout) -> None:
    assert ",".join(layout.header) in (REPO_ROOT / "docs" / "payroll.md").read_text()
