"""The supplier portal's pages through HTTP, as a browser uses them (both databases): the
supplier proposes, the buyer answers on the order's page, the supplier sends a ship notice
with lots and the warehouse receives against it; another supplier finds nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from test_web import TODAY, browser, csrf, db_url, nav, shop

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.access import Role
from leanstock.domain.catalog import Supplier
from leanstock.services import accounts, catalog, purchasing, queries

__all__ = ["browser", "db_url", "shop"]  # the fixtures, shared with test_web
PASSWORD = "correct horse battery staple"
Browser = Callable[[str | None], TestClient]


def test_a_supplier_lands_on_its_portal_and_proposes_and_the_buyer_accepts(
    shop: dict[str, str], browser: Browser, engine: Engine
) -> None:
    po = shop["po"]
    mill = browser("supplier")
    assert mill.get("/", follow_redirects=False).headers["location"] == "/portal"
    home = mill.get("/portal")
    assert home.status_code == 200
    assert po in home.text
    assert "/suppliers/MILL" in home.text  # its scorecard
    assert nav(home) == ["/portal", "/purchase-orders", "/suppliers/MILL"]
    page = mill.get(f"/portal/orders/{po}")
    later = str(TODAY + timedelta(days=6))
    sent = mill.post(
        f"/portal/orders/{po}/propose",
        data={
            "csrf_token": csrf(page),
            "prop_qty_2": "40",
            "prop_date_2": later,
            "note": "Mill busy",
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    shown = mill.get(sent.headers["location"])
    assert "Order proposed." in shown.text
    assert "pending" in shown.text
    assert "Send the proposal" not in shown.text  # one waits at a time

    buyer = browser("buyer")
    order = buyer.get(f"/purchase-orders/{po}")
    assert "Accept proposal 1" in order.text
    assert "Mill busy" in order.text
    no_reason = buyer.post(
        f"/purchase-orders/{po}/proposals/1/reject", data={"csrf_token": csrf(order), "reason": ""}
    )
    assert no_reason.status_code == 422
    assert "Say why" in no_reason.text
    accepted = buyer.post(
        f"/purchase-orders/{po}/proposals/1/accept",
        data={"csrf_token": csrf(order)},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    line = purchasing.get_purchase_order(UnitOfWork(engine), po).lines[1]
    assert (line.confirmed_quantity, str(line.confirmed_date)) == (Decimal(40), later)
    assert "accepted" in buyer.get(f"/purchase-orders/{po}").text


def test_a_ship_notice_form_keeps_what_was_typed_and_the_warehouse_receives_against_it(
    shop: dict[str, str], browser: Browser, engine: Engine
) -> None:
    po = shop["po"]
    mill = browser("supplier")
    page = mill.get(f"/portal/orders/{po}")
    form = {
        "csrf_token": csrf(page),
        "ship_qty_1": "24",
        "ship_qty_2": "50",
        "carrier": "DHL",
        "tracking": "JD-42",
    }
    refused = mill.post(f"/portal/orders/{po}/ship-notice", data=form)
    assert refused.status_code == 422
    assert "tracked by lot" in refused.text
    assert 'value="JD-42"' in refused.text  # what was typed stays
    assert re.search(r'id="ship_qty_1"[^>]*aria-invalid="true"', refused.text)
    expires = str(TODAY + timedelta(days=9))
    form |= {"ship_lot_1": "L-NEW", "ship_expires_1": expires}
    done = mill.post(f"/portal/orders/{po}/ship-notice", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    assert "JD-42" in mill.get(f"/portal/orders/{po}").text

    floor = browser("warehouse")
    order = floor.get(f"/purchase-orders/{po}")
    assert "Receive ship notice 1" in order.text
    received = floor.post(
        f"/purchase-orders/{po}/ship-notices/1/receive",
        data={"csrf_token": csrf(order)},
        follow_redirects=False,
    )
    assert received.status_code == 303, received.text
    lots = {r["lot"]: r["quantity"] for r in queries.lots(UnitOfWork(engine), "MILK", "WH")}
    assert lots["L-NEW"] == Decimal(24)


def test_another_supplier_finds_no_portal_order_of_this_one(
    shop: dict[str, str], browser: Browser, engine: Engine
) -> None:
    uow = UnitOfWork(engine)
    catalog.add_supplier(uow, Supplier("RIVAL", "Rival"))
    accounts.create_user(uow, "rival@example.com", PASSWORD, Role.SUPPLIER, supplier="RIVAL")
    rival = browser(None)
    rival.post("/login", data={"email": "rival@example.com", "password": PASSWORD, "next": "/"})
    po = shop["po"]
    assert rival.get(f"/portal/orders/{po}").status_code == 404
    assert po not in rival.get("/portal").text
    page = rival.get("/portal")
    sent = rival.post(
        f"/portal/orders/{po}/acknowledge", data={"csrf_token": csrf(page)}, follow_redirects=False
    )
    assert sent.status_code == 404
    assert purchasing.get_purchase_order(uow, po).status == "released"
