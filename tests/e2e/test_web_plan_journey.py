"""Reviewing a plan in a real browser (Debian's chromium, Playwright): a buyer changes a
suggested quantity; a manager approves and releases it and follows the link to the purchase
order it made. The page passes axe-core with no serious or critical finding."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine
from test_web import db_url, planned
from test_web_browser import page, serious_violations, serving, sign_in, sync_api

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.services import purchasing

pytestmark = pytest.mark.slow
__all__ = ["db_url", "page", "planned"]  # fixtures of the modules above


@pytest.fixture
def server(engine: Engine, planned: int) -> Iterator[str]:
    """The app serving the coffee roaster's business and its draft plan."""
    with serving(engine) as url:
        yield url


def test_a_plan_is_reviewed_edited_approved_and_released(
    page: Any, planned: int, engine: Engine
) -> None:
    expect = sync_api.expect
    sign_in(page, "buyer")
    page.get_by_role("link", name="Plans", exact=True).click()
    page.get_by_role("link", name=f"Plan {planned}", exact=True).click()
    expect(page.locator("main")).to_contain_text("ROAST")
    assert page.get_by_role("button", name="Approve").count() == 0  # a manager approves
    page.get_by_label("Quantity of BEANS at WH").fill("120")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#messages")).to_contain_text("Plan edited.")
    expect(page.get_by_label("Quantity of BEANS at WH")).to_have_value("120")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "manager")
    page.goto(f"/plans/{planned}")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("#messages")).to_contain_text("Plan approved.")
    page.get_by_role("button", name="Release orders").click()
    expect(page.locator("#messages")).to_contain_text("Plan released.")
    page.get_by_role("link", name="PO-").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("ROAST")
    number = page.url.rsplit("/", 1)[1]
    order = purchasing.get_purchase_order(UnitOfWork(engine), number)
    assert order.status == "released"
    assert [(ln.sku, ln.quantity) for ln in order.lines] == [("BEANS", Decimal(120))]
    assert [e for e in page.errors if not e.startswith("Failed to load resource")] == []
