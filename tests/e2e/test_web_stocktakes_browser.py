"""The stocktake pages in a real browser (Debian's chromium, as in test_web_browser.py): a
warehouse counter opens a frozen blind count, counts without seeing the books, is refused a
lot that does not exist beside the form, and posts; the owner then sees the differences."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine
from test_web import db_url, shop
from test_web_browser import page, screenshot, server, sign_in, sync_api

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.services import queries, stock

pytestmark = pytest.mark.slow
__all__ = ["db_url", "page", "server", "shop"]  # the fixtures this module uses


def test_a_blind_count_is_counted_and_posted_from_the_stocktake_page(
    page: Any, shop: dict[str, str], engine: Engine
) -> None:
    expect: Callable[..., Any] = sync_api.expect
    stock.receive(UnitOfWork(engine), "SUGAR", "WH", Decimal(8))
    sign_in(page, "warehouse")
    page.goto("/stocktakes")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Stocktakes")
    page.get_by_label("Location").first.select_option("WH")
    page.get_by_label("Freeze: snapshot the books now (the count sheet)").check()
    page.get_by_label("Blind: counters do not see the books").check()
    page.get_by_role("button", name="Start a count").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("ST-")
    number = page.get_by_role("heading", level=1).inner_text().split()[0]
    expect(page.locator("main")).to_contain_text("the books' quantities are hidden")
    expect(page.locator("table")).not_to_contain_text("Expected")

    page.get_by_label("SKU").fill("MILK")
    page.get_by_label("Lot").fill("NO-SUCH")
    page.get_by_label("Counted").fill("11")
    page.get_by_role("button", name="Count", exact=True).click()
    expect(page.locator("#count-error")).to_contain_text("NO-SUCH")
    screenshot(page, "stocktake-refused.png")
    expect(page.get_by_label("Counted")).to_have_value("11")
    page.get_by_label("Lot").fill("L-OLD")
    page.get_by_role("button", name="Count", exact=True).click()
    expect(page.locator("#messages")).to_contain_text("Stocktake counted.")
    page.get_by_label("SKU").fill("SUGAR")
    page.get_by_label("Counted").fill("8")
    page.get_by_role("button", name="Count", exact=True).click()
    expect(page.locator("#messages")).to_contain_text("Stocktake counted.")
    page.get_by_role("button", name="Post the differences").click()
    expect(page.locator("#messages")).to_contain_text("Stocktake posted.")
    expect(page.locator("table")).to_contain_text("Difference")

    lots = {r["lot"]: r["quantity"] for r in queries.lots(UnitOfWork(engine), "MILK", "WH")}
    assert lots["L-OLD"] == Decimal(11)
    # The refused lot's page came with its 422, which the browser logs; nothing else.
    assert [e for e in page.errors if "status of 422" not in e] == []
    page.goto(f"/stocktakes/{number}")
    expect(page.locator("table")).to_contain_text("-1")
    screenshot(page, "stocktake-posted.png")
