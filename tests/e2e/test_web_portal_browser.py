"""The supplier portal in a real browser (Debian's chromium, Playwright, `--no-sandbox`): the
supplier proposes a later date, the buyer accepts it on the order's page, the supplier sends
a ship notice with a lot; axe-core finds no serious accessibility problem on the portal's
pages, a refused form included."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from test_web import TODAY, db_url, shop
from test_web_browser import page, serious_violations, server, sign_in, sync_api

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.services import purchasing

pytestmark = pytest.mark.slow
__all__ = ["db_url", "page", "server", "shop"]  # the fixtures, shared with the other browser tests


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(lambda url: url.endswith("/login"))


def test_a_proposal_goes_from_the_supplier_to_the_buyer_and_a_ship_notice_back(
    page: Any, shop: dict[str, str], engine: Engine
) -> None:
    expect = sync_api.expect
    po = shop["po"]
    problems: dict[str, list[dict[str, Any]]] = {}
    sign_in(page, "supplier")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Supplier portal")
    problems["/portal"] = serious_violations(page)
    page.get_by_role("link", name=po).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(po)
    problems["/portal/orders"] = serious_violations(page)

    later = str(TODAY + timedelta(days=5))
    proposal = page.locator("#propose")
    proposal.get_by_label("Delivery date").nth(1).fill(later)
    proposal.get_by_label("Note to the buyer").fill("The mill is busy")
    proposal.get_by_role("button", name="Send the proposal").click()
    expect(page.locator("#messages")).to_contain_text("Order proposed.")
    expect(page.get_by_role("cell", name="pending")).to_be_visible()

    # A ship notice for milk without its lot is refused beside the field, typing kept.
    ship = page.locator("#ship")
    ship.get_by_label("Quantity shipped").first.fill("24")
    ship.get_by_label("Carrier").fill("DHL")
    ship.get_by_role("button", name="Send the ship notice").click()
    expect(page.locator("#ship_qty_1-error")).to_contain_text("tracked by lot")
    expect(page.locator("#ship").get_by_label("Carrier")).to_have_value("DHL")
    problems["/portal/orders (refused)"] = serious_violations(page)
    sign_out(page)

    sign_in(page, "buyer")
    page.goto(f"/purchase-orders/{po}")
    expect(page.get_by_role("cell", name="The mill is busy")).to_be_visible()
    problems["/purchase-orders (proposal)"] = serious_violations(page)
    page.get_by_role("button", name="Accept proposal 1").click()
    expect(page.locator("#messages")).to_contain_text("proposal accepted")
    line = purchasing.get_purchase_order(UnitOfWork(engine), po).lines[1]
    assert str(line.confirmed_date) == later
    sign_out(page)

    sign_in(page, "supplier")
    page.goto(f"/portal/orders/{po}")
    ship = page.locator("#ship")
    ship.get_by_label("Quantity shipped").first.fill("24")
    ship.get_by_label("Lot").first.fill("L-7")
    ship.get_by_label("Carrier").fill("DHL")
    ship.get_by_label("Tracking number").fill("JD-7")
    ship.get_by_role("button", name="Send the ship notice").click()
    expect(page.locator("#messages")).to_contain_text("Order shipped.")
    expect(page.get_by_role("cell", name="JD-7")).to_be_visible()
    assert {path: found for path, found in problems.items() if found} == {}
