"""The import page in a real browser (chromium, as tests/e2e/test_web_browser.py runs it):
choose a kind and a file, check it, read the problems by row and column, fix the file,
check again and import; with no serious accessibility finding on the way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from test_web_browser import db_url, page, serious_violations, server, shop, sign_in, sync_api

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.services import customers

pytestmark = pytest.mark.slow
__all__ = ["db_url", "page", "server", "shop"]


def test_a_manager_checks_a_file_fixes_it_and_imports_it(
    page: Any, shop: dict[str, str], engine: Engine, tmp_path: Path
) -> None:
    expect = sync_api.expect
    bad = tmp_path / "customers.csv"
    bad.write_text("code,name,priority\nBISTRO,Bistro,2\nDELI,The Deli,12\n")
    sign_in(page, "manager")
    page.get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Import a spreadsheet")
    assert serious_violations(page) == []
    page.get_by_label("What the file holds").select_option("customers")
    page.get_by_label("File (.csv or .xlsx)").set_input_files(str(bad))
    page.get_by_role("button", name="Check the file").click()
    problems = page.locator("#problems")
    expect(problems).to_contain_text("priority 12 is out of range")
    row = problems.locator("tbody tr").first
    expect(row.locator("td").nth(0)).to_have_text("3")
    expect(row.locator("td").nth(1)).to_have_text("priority")
    assert serious_violations(page) == []
    assert customers.list_customers(UnitOfWork(engine)).total == 0

    good = tmp_path / "customers-fixed.csv"
    good.write_text("code,name,priority\nBISTRO,Bistro,2\nDELI,The Deli,9\n")
    page.get_by_label("File (.csv or .xlsx)").set_input_files(str(good))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#report")).to_contain_text("No problems in 2 rows of customers")
    page.get_by_role("button", name="Import it").click()
    expect(page.locator("#report")).to_contain_text("Imported customers: 2 created")
    assert customers.get_customer(UnitOfWork(engine), "DELI").priority == 9
    assert page.errors == []
