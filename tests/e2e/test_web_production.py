"""Production and transfer orders on the web app, over HTTP (both databases): created from a
form, taken through their life cycle from the order page by the roles that may, refused
beside the field with what was typed kept, and made once when a submit is double-clicked."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from test_web import browser, csrf, db_url, form_key, post_actions, shop

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, ItemKind
from leanstock.services import catalog, production, queries, stock, transfers

__all__ = ["browser", "db_url", "shop"]  # the business and the signed-in clients of test_web


@pytest.fixture
def bakery(shop: dict[str, str], engine: Engine) -> dict[str, str]:
    """The shop, plus bread made at WH from 0.5 l of milk and 0.25 kg of flour a loaf, with
    10 kg of flour in stock."""
    uow = UnitOfWork(engine)
    catalog.add_item(uow, Item("BREAD", "Farm loaf", kind=ItemKind.MADE))
    production.put_bom(
        uow,
        "BREAD",
        [("MILK", Decimal("0.5"), Decimal(0)), ("FLOUR", Decimal("0.25"), Decimal(0))],
        lead_time_days=1,
    )
    stock.receive(uow, "FLOUR", "WH", Decimal(10))
    return shop


def on_hand(engine: Engine, sku: str, location: str) -> Decimal:
    rows = queries.stock(UnitOfWork(engine), sku, location, 10, 0).items
    return sum((r["on_hand"] for r in rows), Decimal(0))


def number_of(location: str) -> str:
    return location.split("/")[2].split("?")[0]


# Production orders


def test_a_production_order_is_made_from_its_page_release_to_close(
    bakery: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    manager = browser("manager")
    form = manager.get("/production-orders/new")
    assert form.status_code == 200
    token = csrf(form)
    made = manager.post(
        "/production-orders/new",
        data={"csrf_token": token, "sku": "BREAD", "quantity": "4", "location": "WH"},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    number = number_of(made.headers["location"])
    page = manager.get(made.headers["location"])
    assert "Order created." in page.text
    bom = page.text.split('id="bom"', 1)[1].split("</table>", 1)[0]
    assert "MILK" in bom
    assert "0.5" in bom
    assert "FLOUR" in bom
    assert "0.25" in bom
    assert number in manager.get("/production-orders").text
    path = f"/production-orders/{number}"
    assert post_actions(page) == ["/logout", f"{path}/release", f"{path}/cancel"]
    released = manager.post(f"{path}/release", data={"csrf_token": token})
    assert "Order released." in released.text

    # The warehouse user (WH) starts it, issuing the components, and reports the goods.
    warehouse = browser("warehouse")
    page = warehouse.get(path)
    assert post_actions(page) == ["/logout", f"{path}/start"]
    started = warehouse.post(f"{path}/start", data={"csrf_token": csrf(page)})
    assert "Order started." in started.text
    assert on_hand(engine, "MILK", "WH") == Decimal(10)
    assert f"{path}/produce" in post_actions(started)
    token = csrf(started)
    typo = warehouse.post(f"{path}/produce", data={"csrf_token": token, "quantity": "3x"})
    assert typo.status_code == 422
    assert 'id="quantity-error">Enter the quantity made as a number' in typo.text
    assert 'value="3x"' in typo.text
    too_many = warehouse.post(f"{path}/produce", data={"csrf_token": token, "quantity": "5"})
    assert too_many.status_code == 409
    assert 'id="quantity-error">' in too_many.text
    assert "5 more is too many" in too_many.text
    assert on_hand(engine, "BREAD", "WH") == Decimal(0)
    part = warehouse.post(f"{path}/produce", data={"csrf_token": token, "quantity": "3"})
    assert "Order reported." in part.text
    rest = warehouse.post(f"{path}/produce", data={"csrf_token": token, "quantity": "1"})
    assert ">completed<" in rest.text
    closed = warehouse.post(f"{path}/close", data={"csrf_token": token})
    assert ">closed<" in closed.text
    assert post_actions(closed) == ["/logout"]
    assert on_hand(engine, "BREAD", "WH") == Decimal(4)
    assert on_hand(engine, "FLOUR", "WH") == Decimal(9)


def test_a_bought_item_is_refused_beside_its_field_and_the_form_keeps_what_was_typed(
    bakery: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    web = browser("owner")
    token = csrf(web.get("/production-orders/new"))
    refused = web.post(
        "/production-orders/new",
        data={"csrf_token": token, "sku": "SUGAR", "quantity": "2", "location": "WH"},
    )
    assert refused.status_code == 422
    assert 'id="sku-error">Item SUGAR is bought, not made' in refused.text
    assert 'value="SUGAR"' in refused.text
    assert 'value="2"' in refused.text
    assert production.list_production_orders(UnitOfWork(engine)).total == 0


def test_a_draft_production_order_is_cancelled_and_gives_back_its_components(
    bakery: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    uow = UnitOfWork(engine)
    made = production.create_production_order(uow, "BREAD", Decimal(2), "WH")
    assert sum(c.reserved for c in made.components) > 0
    path = f"/production-orders/{made.number}"
    viewer = browser("viewer")
    page = viewer.get(path)
    assert page.status_code == 200
    assert "MILK" in page.text
    assert post_actions(page) == ["/logout"]
    assert "New production order" not in viewer.get("/production-orders").text
    assert viewer.post(f"{path}/cancel", data={"csrf_token": csrf(page)}).status_code == 403
    assert viewer.get("/production-orders/new").status_code == 403
    manager = browser("manager")
    cancelled = manager.post(f"{path}/cancel", data={"csrf_token": csrf(manager.get(path))})
    assert ">cancelled<" in cancelled.text
    view = production.get_production_order(UnitOfWork(engine), made.number)
    assert view.status == "cancelled"
    assert all(c.reserved == 0 for c in view.components)


def test_a_double_clicked_production_order_is_made_once(
    bakery: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    web = browser("manager")
    form = web.get("/production-orders/new")
    data = {
        "csrf_token": csrf(form),
        "idempotency_key": form_key(form),
        "sku": "BREAD",
        "quantity": "2",
        "location": "WH",
    }
    first = web.post("/production-orders/new", data=data, follow_redirects=False)
    second = web.post("/production-orders/new", data=data, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert production.list_production_orders(UnitOfWork(engine)).total == 1


# Transfer orders


def test_a_transfer_order_is_created_from_the_form_shipped_from_draft_and_received(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    manager = browser("manager")
    form = manager.get("/transfer-orders/new")
    assert form.status_code == 200
    token = csrf(form)
    data = {
        "csrf_token": token,
        "idempotency_key": form_key(form),
        "sku": "MILK",
        "source": "WH",
        "target": "STORE",
        "quantity": "5",
    }
    made = manager.post("/transfer-orders/new", data=data, follow_redirects=False)
    again = manager.post("/transfer-orders/new", data=data, follow_redirects=False)
    assert made.status_code == again.status_code == 303, made.text
    assert made.headers["location"] == again.headers["location"]
    assert transfers.list_transfer_orders(UnitOfWork(engine)).total == 1
    number = number_of(made.headers["location"])
    path = f"/transfer-orders/{number}"
    page = manager.get(made.headers["location"])
    assert "Order created." in page.text
    assert ">draft<" in page.text
    assert post_actions(page) == ["/logout", f"{path}/ship", f"{path}/cancel"]
    levels = {r["location"]: r for r in queries.stock(UnitOfWork(engine), "MILK").items}
    assert levels["WH"]["reserved"] == Decimal(5)
    shipped = manager.post(f"{path}/ship", data={"csrf_token": token})
    assert "in transit" in shipped.text
    assert f"{path}/cancel" not in post_actions(shipped)
    received = manager.post(f"{path}/receive", data={"csrf_token": token})
    assert "Order received." in received.text
    assert on_hand(engine, "MILK", "STORE") == Decimal(5)


def test_a_transfer_of_more_than_is_available_is_refused_beside_the_quantity(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    web = browser("buyer")
    token = csrf(web.get("/transfer-orders/new"))
    base = {"csrf_token": token, "sku": "MILK", "source": "WH", "target": "STORE"}
    refused = web.post("/transfer-orders/new", data={**base, "quantity": "50"})
    assert refused.status_code == 409
    error = re.search(r'id="quantity-error">([^<]+)<', refused.text)
    assert error
    assert "50" in error.group(1)
    assert "12" in error.group(1)
    assert 'value="50"' in refused.text
    same = web.post("/transfer-orders/new", data={**base, "target": "WH", "quantity": "1"})
    assert same.status_code == 422
    assert 'id="target-error">Source and target are both WH' in same.text
    assert transfers.list_transfer_orders(UnitOfWork(engine)).total == 0


def test_a_draft_transfer_is_cancelled_and_its_reservation_goes_back(
    shop: dict[str, str], browser: Callable[[str | None], TestClient], engine: Engine
) -> None:
    made = transfers.create_transfer_order(UnitOfWork(engine), "MILK", "WH", "STORE", Decimal(3))
    path = f"/transfer-orders/{made.number}"
    viewer = browser("viewer")
    assert "New transfer order" not in viewer.get("/transfer-orders").text
    assert viewer.get("/transfer-orders/new").status_code == 403
    refused = viewer.post(f"{path}/cancel", data={"csrf_token": csrf(viewer.get(path))})
    assert refused.status_code == 403
    manager = browser("manager")
    cancelled = manager.post(f"{path}/cancel", data={"csrf_token": csrf(manager.get(path))})
    assert "Order cancelled." in cancelled.text
    assert post_actions(cancelled) == ["/logout"]
    levels = {r["location"]: r for r in queries.stock(UnitOfWork(engine), "MILK").items}
    assert levels["WH"]["reserved"] == Decimal(0)
