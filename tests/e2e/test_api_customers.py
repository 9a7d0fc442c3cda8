"""Customers and barcodes through the HTTP API: records orders refer to, a priority that goes
first when stock is short, and items named by a scanned barcode wherever a SKU is asked for."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from conftest import OWNER, Templates, make_token
from leanstock.domain.access import Role
from leanstock.entrypoints.api.app import create_app

API = "/api/v1"
EAN = "4006381333931"  # EAN-13, check digit 1
UPC = "036000291452"  # UPC-A, check digit 2


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def problem(response: Any, status: int, field: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert field in [e["field"] for e in body.get("errors", [])], body
    return str(body["detail"])


@pytest.fixture
def db_url(db_kind: str, templates: Templates, request: pytest.FixtureRequest) -> Iterator[str]:
    """A copy of the template `open_the_shop` wrote (once per session and worker) for the
    tests that ask for `shop`."""
    with templates.for_test(request, db_kind, {"shop": ("customers_shop", open_the_shop)}) as url:
        yield url


def open_the_shop(engine: Engine) -> None:
    """WH; MUG and CUP, no stock, no customers: made through the API, as an owner."""
    owner = {"Authorization": f"Bearer {make_token(engine, OWNER, Role.OWNER)}"}
    with TestClient(create_app(engine=engine), headers=owner) as client:
        ok(client.post(f"{API}/locations", json={"code": "WH", "name": "Warehouse"}), 201)
        for sku in ("MUG", "CUP"):
            ok(client.post(f"{API}/items", json={"sku": sku, "name": sku.title()}), 201)


@pytest.fixture
def shop(client: TestClient) -> TestClient:
    """The owner's client on this test's copy of the shop `open_the_shop` made."""
    return client


def customer(api: TestClient, code: str, **values: Any) -> dict[str, Any]:
    body: dict[str, Any] = ok(
        api.post(f"{API}/customers", json={"code": code, "name": code.title(), **values}), 201
    )
    return body


def sell(api: TestClient, sku: str, quantity: int, **who: Any) -> dict[str, Any]:
    body = {"location": "WH", "confirm": True, "lines": [{"sku": sku, "quantity": quantity}]}
    found: dict[str, Any] = ok(api.post(f"{API}/sales-orders", json={**body, **who}), 201)
    return found


def test_a_customer_is_created_read_changed_listed_by_page_and_searched(shop: TestClient) -> None:
    api = shop
    made = customer(
        api,
        "BISTRO",
        email="orders@bistro.example",
        billing_address="  1 Main St \n\n Springfield  ",
        priority=2,
    )
    assert made["billing_address"] == "1 Main St\nSpringfield"
    assert (made["ship_to"], made["shipping_address"]) == ("1 Main St\nSpringfield", None)
    for n in range(3):
        customer(api, f"SHOP-{n}")
    changed = ok(api.patch(f"{API}/customers/BISTRO", json={"shipping_address": "Dock 4"}))
    assert (changed["ship_to"], changed["priority"]) == ("Dock 4", 2)
    assert ok(api.get(f"{API}/customers/BISTRO"))["shipping_address"] == "Dock 4"
    page = ok(api.get(f"{API}/customers", params={"limit": 2, "offset": 1}))
    assert (page["total"], [c["code"] for c in page["items"]]) == (4, ["SHOP-0", "SHOP-1"])
    found = ok(api.get(f"{API}/customers", params={"q": "bistro.example"}))["items"]
    assert [c["code"] for c in found] == ["BISTRO"]
    trail = ok(api.get(f"{API}/audit", params={"object": "customer:BISTRO"}))["items"]
    assert [row["action"] for row in trail] == ["customer_update", "customer_create"]


def test_bad_customers_are_refused_by_field_and_change_nothing(shop: TestClient) -> None:
    api = shop
    customer(api, "BISTRO")
    problem(api.post(f"{API}/customers", json={"code": "BISTRO", "name": "Again"}), 409, "code")
    problem(
        api.post(f"{API}/customers", json={"code": "X", "name": "X", "priority": 0}),
        422,
        "priority",
    )
    problem(
        api.post(f"{API}/customers", json={"code": "X", "name": "X", "email": "nope"}), 422, "email"
    )
    problem(api.post(f"{API}/customers", json={"code": "has space", "name": "X"}), 422, "code")
    problem(api.patch(f"{API}/customers/BISTRO", json={"priority": 10}), 422, "priority")
    problem(api.patch(f"{API}/customers/BISTRO", json={"code": "OTHER"}), 422, "code")
    problem(api.get(f"{API}/customers/NOBODY"), 404, "code")
    assert ok(api.get(f"{API}/customers"))["total"] == 1
    assert ok(api.get(f"{API}/customers/BISTRO"))["priority"] == 5


def test_an_order_refers_to_a_customer_by_code_and_a_walk_in_by_name(shop: TestClient) -> None:
    api = shop
    customer(api, "BISTRO", name="Bistro Bella")
    ok(api.post(f"{API}/stock/receipts", json={"sku": "MUG", "location": "WH", "quantity": 9}), 201)
    by_code = sell(api, "MUG", 1, customer_code="BISTRO")
    assert (by_code["customer"], by_code["customer_code"]) == ("Bistro Bella", "BISTRO")
    named = sell(api, "MUG", 1, customer_code="BISTRO", customer="Bistro (terrace)")
    assert (named["customer"], named["customer_code"]) == ("Bistro (terrace)", "BISTRO")
    walk_in = sell(api, "MUG", 1, customer="walk-in")
    assert (walk_in["customer"], walk_in["customer_code"]) == ("walk-in", None)
    shown = ok(api.get(f"{API}/sales-orders/{by_code['number']}"))
    assert shown["customer_code"] == "BISTRO"
    listed = ok(api.get(f"{API}/sales-orders", params={"customer_code": "BISTRO"}))["items"]
    assert sorted(o["number"] for o in listed) == sorted([by_code["number"], named["number"]])
    events = ok(api.get(f"{API}/sales-orders/{by_code['number']}/history"))["events"]
    assert events[0]["payload"] == {"customer": "Bistro Bella", "customer_code": "BISTRO"}


def test_an_order_for_an_unknown_or_inactive_customer_is_refused(shop: TestClient) -> None:
    api = shop
    body = {"location": "WH", "lines": [{"sku": "MUG", "quantity": 1}]}
    detail = problem(
        api.post(f"{API}/sales-orders", json={**body, "customer_code": "NOBODY"}),
        422,  # named in a body
        "customer_code",
    )
    assert "NOBODY" in detail
    problem(api.post(f"{API}/sales-orders", json=body), 422, "customer")
    customer(api, "GONE", active=False)
    problem(
        api.post(f"{API}/sales-orders", json={**body, "customer_code": "GONE"}),
        422,
        "customer_code",
    )
    assert ok(api.get(f"{API}/sales-orders"))["total"] == 0


def test_a_customer_with_orders_is_deactivated_not_deleted(shop: TestClient) -> None:
    api = shop
    customer(api, "BISTRO")
    customer(api, "NEVER")
    sell(api, "MUG", 1, customer_code="BISTRO")
    detail = problem(api.delete(f"{API}/customers/BISTRO"), 409, "code")
    assert "active to false" in detail
    assert api.delete(f"{API}/customers/NEVER").status_code == 204
    problem(api.get(f"{API}/customers/NEVER"), 404, "code")
    ok(api.patch(f"{API}/customers/BISTRO", json={"active": False}))
    active = ok(api.get(f"{API}/customers", params={"active": True}))
    assert active["total"] == 0


def test_arriving_stock_goes_to_the_customer_with_the_higher_priority_first(
    shop: TestClient,
) -> None:
    api = shop
    customer(api, "SMALL", priority=9)
    customer(api, "BIG", priority=1)
    first = sell(api, "MUG", 3, customer_code="SMALL")["number"]  # waiting longest
    walk_in = sell(api, "MUG", 3, customer="walk-in")["number"]  # priority 5
    vip = sell(api, "MUG", 3, customer_code="BIG")["number"]  # ordered last
    ok(api.post(f"{API}/stock/receipts", json={"sku": "MUG", "location": "WH", "quantity": 5}), 201)
    reserved = {
        number: ok(api.get(f"{API}/sales-orders/{number}"))["lines"][0]["reserved"]
        for number in (first, walk_in, vip)
    }
    assert reserved == {vip: "3", walk_in: "2", first: "0"}


def test_an_item_is_found_by_any_of_its_barcodes_wherever_a_sku_is_asked(
    shop: TestClient,
) -> None:
    api = shop
    made = ok(api.post(f"{API}/items", json={"sku": "TEA", "name": "Tea", "barcodes": [EAN]}), 201)
    assert made["barcodes"] == [EAN]
    codes = ok(api.post(f"{API}/items/TEA/barcodes", json={"barcode": "0-36000-29145-2"}), 201)
    assert codes == {"sku": "TEA", "barcodes": [UPC, EAN]}
    assert ok(api.get(f"{API}/items/{EAN}"))["sku"] == "TEA"
    assert [i["sku"] for i in ok(api.get(f"{API}/items", params={"q": UPC}))["items"]] == ["TEA"]
    ok(api.post(f"{API}/stock/receipts", json={"sku": UPC, "location": "WH", "quantity": 4}), 201)
    moved = ok(
        api.post(f"{API}/stock/shipments", json={"sku": EAN, "location": "WH", "quantity": 1}), 201
    )
    assert moved["moves"][0]["sku"] == "TEA"
    order = sell(api, EAN, 2, customer="walk-in")
    assert (order["lines"][0]["sku"], order["lines"][0]["reserved"]) == ("TEA", "2")
    levels = ok(api.get(f"{API}/stock", params={"sku": "TEA", "location": "WH"}))["items"]
    assert (levels[0]["on_hand"], levels[0]["reserved"]) == ("3", "2")
    left = ok(api.delete(f"{API}/items/TEA/barcodes/{UPC}"))
    assert left["barcodes"] == [EAN]
    problem(api.get(f"{API}/items/{UPC}"), 404, "sku")


def test_a_wrong_check_digit_or_a_barcode_of_another_item_is_refused(shop: TestClient) -> None:
    api = shop
    ok(api.post(f"{API}/items/MUG/barcodes", json={"barcode": EAN}), 201)
    detail = problem(
        api.post(f"{API}/items/CUP/barcodes", json={"barcode": "4006381333932"}), 422, "barcode"
    )
    assert "check digit" in detail
    assert "give 1" in detail
    problem(api.post(f"{API}/items/CUP/barcodes", json={"barcode": "12345"}), 422, "barcode")
    detail = problem(api.post(f"{API}/items/CUP/barcodes", json={"barcode": EAN}), 409, "barcode")
    assert "already used by item MUG" in detail
    body = {"sku": "TEA", "name": "Tea", "barcodes": [UPC, EAN]}
    problem(api.post(f"{API}/items", json=body), 409, "barcodes")
    problem(api.get(f"{API}/items/TEA"), 404, "sku")  # nothing of it was kept
    problem(api.post(f"{API}/items", json={"sku": EAN, "name": "Clash"}), 422, "sku")
    assert ok(api.get(f"{API}/items/CUP/barcodes"))["barcodes"] == []
    assert ok(api.get(f"{API}/items/MUG/barcodes"))["barcodes"] == [EAN]


def test_a_drop_ship_for_a_customer_tells_the_supplier_where_to_deliver(
    shop: TestClient,
) -> None:
    api = shop
    ok(api.post(f"{API}/items", json={"sku": "TV", "name": "TV", "policy": "drop_ship"}), 201)
    ok(api.post(f"{API}/suppliers", json={"code": "ELEKTRO", "name": "Elektro"}), 201)
    terms = {"sku": "TV", "price": 300, "lead_time_days": 4}
    ok(api.post(f"{API}/suppliers/ELEKTRO/items", json=terms), 201)
    customer(api, "JO", name="Jo Li", billing_address="1 Main St", shipping_address="Flat 2")
    order = sell(api, "TV", 1, customer_code="JO")
    po = order["lines"][0]["pegs"][0]["supply"].split("/")[0]
    purchase = ok(api.get(f"{API}/purchase-orders/{po}"))
    assert (purchase["drop_ship_customer"], purchase["drop_ship_customer_code"]) == ("Jo Li", "JO")
    assert purchase["drop_ship_to"] == "Flat 2"
    walk_in = sell(api, "TV", 1, customer="Sam")
    po = walk_in["lines"][0]["pegs"][0]["supply"].split("/")[0]
    purchase = ok(api.get(f"{API}/purchase-orders/{po}"))
    assert (purchase["drop_ship_customer"], purchase["drop_ship_customer_code"]) == ("Sam", None)
    assert purchase["drop_ship_to"] is None


def test_reports_and_reservations_named_by_barcode_answer_for_the_item(shop: TestClient) -> None:
    api = shop
    ok(api.post(f"{API}/items/MUG/barcodes", json={"barcode": EAN}), 201)
    receipt = {"sku": EAN, "location": "WH", "quantity": 4, "unit_cost": "2.5"}
    ok(api.post(f"{API}/stock/receipts", json=receipt), 201)
    reservation = {"sku": EAN, "location": "WH", "quantity": 1, "reference": "R1"}
    held = ok(api.post(f"{API}/reservations", json=reservation), 201)
    assert held["sku"] == "MUG"
    value = ok(api.get(f"{API}/stock/value", params={"sku": EAN}))
    assert [(line["sku"], line["value"]) for line in value["lines"]] == [("MUG", "10")]
    suppliers = ok(api.get(f"{API}/items/{EAN}/suppliers"))
    assert suppliers["total"] == 0
