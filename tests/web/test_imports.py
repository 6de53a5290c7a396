"""``/imports``: a file uploaded from the page, its problems shown by row and column, committed."""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from expediter.engine.hub import Hub
from expediter.web.app import create_app
from expediter.web.imports import ImportsPage
from expediter.web.roles import Role, role_needed
from tests.engine.test_imports import SHEET, _catalog
from tests.web.live_hub import LiveHub
from tests.web.signin import add_user, client_for, sign_in, sign_in_page


def csrf(token: str) -> dict[str, str]:
    """The header the page's script sends its file with (the session's CSRF token)."""
    return {"X-CSRF-Token": token}


async def _settled(client: httpx.AsyncClient, url: str) -> str:
    """The import's page once the hub has read the file (it reads in the background)."""
    for _ in range(500):
        page = (await client.get(url)).text
        if 'data-state="reading"' not in page:
            return page
        await asyncio.sleep(0.02)
    raise AssertionError("the import is still reading")


def test_upload_preview_quarantine_and_commit(tmp_path: Path) -> None:
    async def main() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        async with Hub(_catalog(tmp_path), deliver=False) as hub:
            await add_user(hub, "manager", Role.OPERATOR)
            async with client_for(create_app(hub, manage_hub=False)) as client:
                token = await sign_in(client)
                seen["form"] = (await client.get("/imports")).text
                query = {"flow": "counts", "location": "L001", "date": "2026-11-26", "name": "sheet.csv"}
                seen["forged"] = await client.put("/imports/upload", params=query, content=SHEET)
                uploaded = await client.put(
                    "/imports/upload", params=query, content=SHEET, headers=csrf(token)
                )
                seen["uploaded"] = uploaded
                url = uploaded.json()["url"]
                seen["preview"] = await _settled(client, url)
                seen["csv"] = await client.get(f"{url}/quarantine.csv")
                seen["commit"] = await client.post(f"{url}/commit", data={"csrf": token})
                seen["after"] = (await client.get(url)).text
                seen["again"] = await client.post(f"{url}/commit", data={"csrf": token})
                seen["list"] = (await client.get("/imports")).text
            seen["sheet"] = await hub.inbox.latest_by_ref("inventory_counts", "L001:2026-11-26")
        return seen

    seen = asyncio.run(main())
    assert 'option value="counts"' in seen["form"] and "count sheet" in seen["form"]
    assert 'data-csrf="' in seen["form"]  # the page's script sends the file with the token
    assert seen["forged"].status_code == 403  # no CSRF token: another site's page cannot send a file
    assert seen["uploaded"].status_code == 202
    preview = seen["preview"]
    assert 'id="rows-good">2<' in preview and 'id="rows-bad">6<' in preview
    assert "unknown ingredient &#39;saffron&#39;" in preview and "&#39;abc&#39; is not a number" in preview
    assert 'id="commit"' in preview and "quarantine.csv" in preview
    download = seen["csv"]
    assert download.headers["content-disposition"] == 'attachment; filename="sheet-quarantine.csv"'
    assert download.content.startswith(codecs.BOM_UTF8)
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert len(rows) == 6 and rows[0]["import_error"].startswith("row 3: column ingredient")
    assert seen["commit"].status_code == 303 and 'id="committed"' in seen["after"]
    assert seen["again"].status_code == 409
    assert seen["sheet"] is not None and seen["sheet"].payload.count(b"\r\n") == 3
    assert "sheet.csv" in seen["list"] and "committed" in seen["list"]


def test_a_file_larger_than_the_api_limit_uploads_and_one_that_cannot_be_read_says_why(
    tmp_path: Path,
) -> None:
    big = "vendor_item,description,unit,unit_price\r\n" + "".join(
        f"{n},Item number {n} of the list,CS,{n % 50}.99\r\n" for n in range(40_000)
    )
    assert len(big) > 1_048_576

    async def main() -> tuple[str, str]:
        async with Hub(_catalog(tmp_path), deliver=False) as hub:
            await add_user(hub, "manager", Role.OPERATOR)
            async with client_for(create_app(hub, manage_hub=False)) as client:
                token = await sign_in(client)
                query = {"flow": "prices", "location": "L001", "name": "list.csv"}
                first = await client.put("/imports/upload", params=query, content=big, headers=csrf(token))
                bad = await client.put(
                    "/imports/upload", params=query, content="vendor_item\n1\n", headers=csrf(token)
                )
                return await _settled(client, first.json()["url"]), await _settled(client, bad.json()["url"])

    listed, failed = asyncio.run(main())
    assert 'id="rows-good">40,000<' in listed
    assert 'id="failed"' in failed and "has no description, unit, unit_price column" in failed


def test_a_person_of_one_location_imports_and_sees_only_theirs(tmp_path: Path) -> None:
    async def main() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        async with Hub(_catalog(tmp_path), deliver=False) as hub:
            await add_user(hub, "manager", Role.OPERATOR)
            await add_user(hub, "harbor", Role.OPERATOR, ("L002",))
            app = create_app(hub, manage_hub=False)
            async with client_for(app) as everyone, client_for(app) as harbor:
                token, theirs = await sign_in(everyone), await sign_in(harbor, "harbor")
                query = {"flow": "counts", "location": "L001", "date": "2026-11-26", "name": "sheet.csv"}
                seen["foreign"] = await harbor.put(
                    "/imports/upload", params=query, content=SHEET, headers=csrf(theirs)
                )
                url = (
                    await everyone.put("/imports/upload", params=query, content=SHEET, headers=csrf(token))
                ).json()["url"]
                await _settled(everyone, url)
                seen["page"] = await harbor.get(url)
                seen["commit"] = await harbor.post(f"{url}/commit", data={"csrf": theirs})
                seen["list"] = (await harbor.get("/imports")).text
                seen["still"] = (await everyone.get(url)).text
        return seen

    seen = asyncio.run(main())
    assert seen["foreign"].status_code == 403 and "L001" in seen["foreign"].json()["error"]
    assert seen["page"].status_code == 404 and seen["commit"].status_code == 404
    assert "sheet.csv" not in seen["list"] and 'value="L001"' not in seen["list"]
    assert 'id="commit"' in seen["still"]  # the other location's import was not committed


def test_writes_need_the_operator_role() -> None:
    page = ImportsPage(hub=None)
    assert {role_needed(page.upload), role_needed(page.commit), role_needed(page.discard)} == {Role.OPERATOR}
    assert role_needed(page.index) is Role.VIEWER and role_needed(page.show) is Role.VIEWER


# -- the page in a real browser -------------------------------------------------------------------


@pytest.fixture
def live(tmp_path: Path) -> Iterator[str]:
    server = LiveHub(_catalog(tmp_path)).start()
    try:
        server.call(add_user(server.hub))
        yield server.url
    finally:
        server.stop()


@pytest.mark.browser
def test_the_upload_page_in_chromium(live: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    from tests.web.test_kds_browser import CHROMIUM_ARGS

    url = live
    sheet = tmp_path / "counts.csv"
    sheet.write_bytes(
        codecs.BOM_UTF16_LE + SHEET.replace("\n", "\r\n").replace(",", "\t").encode("utf-16-le")
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            sign_in_page(page, url)
            page.goto(f"{url}/imports")
            page.select_option("select[name=flow]", "counts")
            page.fill("input[name=date]", "2026-11-26")
            page.set_input_files("input[name=file]", str(sheet))
            page.click("#import-form button[type=submit]")  # not the header's Sign out
            expect(page.locator("#rows-bad")).to_have_text("6", timeout=15_000)
            expect(page.locator("#problems")).to_contain_text("unknown ingredient 'saffron'")
            expect(page.locator("#import")).to_contain_text("UTF-16 LE, tab-delimited")
            page.click("#commit")
            expect(page.locator("#committed")).to_contain_text("2 rows committed")
        finally:
            browser.close()
