"""The pull flow through the HTTP API: four businesses, changes, promises, problems, idempotency."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from conftest import OWNER, Templates, make_token
from leanstock.domain.access import Role
from leanstock.entrypoints.api.app import create_app

API = "/api/v1"


@pytest.fixture
def db_url(db_kind: str, templates: Templates, request: pytest.FixtureRequest) -> Iterator[str]:
    """A copy of the template `open_the_bakery` or `open_the_shop` wrote (each once per session
    and worker) for the tests that ask for `bakery` or `shop`, else an empty database."""
    seeds = {
        "bakery": ("orders_bakery", open_the_bakery),
        "shop": ("orders_shop", open_the_shop),
    }
    with templates.for_test(request, db_kind, seeds) as url:
        yield url


@contextmanager
def as_owner(engine: Engine) -> Iterator[TestClient]:
    """A client of the template being seeded, as the owner the tests' `client` signs in as:
    the template's businesses are made through the API, as the tests' fixtures made them."""
    owner = {"Authorization": f"Bearer {make_token(engine, OWNER, Role.OWNER)}"}
    with TestClient(create_app(engine=engine), headers=owner) as client:
        yield client


def day_of(order: dict[str, Any]) -> date:
    """The business day the order was placed on: in UTC, as the services judge promise dates
    (not the test machine's local day, which differs from it for hours every day)."""
    return datetime.fromisoformat(order["ordered_at"]).astimezone(UTC).date()


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def post(api: TestClient, path: str, body: Any = None, status: int = 200, **kw: Any) -> Any:
    return ok(api.post(f"{API}{path}", json=body, **kw), status)


def get(api: TestClient, path: str, **params: Any) -> Any:
    return ok(api.get(f"{API}{path}", params=params))


def conflict(response: Any) -> dict[str, Any]:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["detail"]
    return body


def setup(
    api: TestClient, items: list[dict[str, Any]], terms: dict[str, list[dict[str, Any]]]
) -> None:
    for body in (
        {"code": "WH", "name": "Warehouse"},
        {"code": "STORE", "name": "Store", "kind": "store"},
    ):
        post(api, "/locations", body, 201)
    for item in items:
        post(api, "/items", item, 201)
    for supplier, lines in terms.items():
        post(api, "/suppliers", {"code": supplier, "name": supplier.title()}, 201)
        for line in lines:
            post(api, f"/suppliers/{supplier}/items", line, 201)


def on_hand(api: TestClient, sku: str, location: str) -> tuple[str, str]:
    rows = get(api, "/stock", sku=sku, location=location)["items"]
    return (str(rows[0]["on_hand"]), str(rows[0]["reserved"])) if rows else ("0", "0")


def sell(
    api: TestClient, customer: str, sku: str, quantity: Any, location: str = "WH", **kw: Any
) -> Any:
    body = {
        "customer": customer,
        "location": location,
        "lines": [{"sku": sku, "quantity": quantity}],
        "confirm": True,
        **kw,
    }
    return post(api, "/sales-orders", body, 201)


def open_the_bakery(engine: Engine) -> None:
    cake = {"sku": "CAKE", "name": "Custom cake", "kind": "made", "policy": "make_to_order"}
    flour = {"sku": "FLOUR", "name": "Flour", "unit": "kg", "policy": "buy_to_order"}
    terms = {"sku": "FLOUR", "price": "0.9", "lead_time_days": 3, "moq": 25, "pack_size": 25}
    with as_owner(engine) as client:
        setup(client, [cake, flour], {"MILL": [terms]})


@pytest.fixture
def bakery(client: TestClient) -> TestClient:
    """WH and STORE; CAKE made to order of FLOUR bought to order from MILL: this test's copy of
    the bakery `open_the_bakery` made."""
    return client


def test_a_custom_cake_order_pulls_a_flour_purchase_order_and_ships_on_receipt(
    bakery: TestClient,
) -> None:
    api = bakery
    post(
        api,
        "/boms",
        {
            "sku": "CAKE",
            "lead_time_days": 1,
            "lines": [{"sku": "FLOUR", "quantity": "0.5", "scrap": "0.2"}],
        },
        201,
    )
    order = sell(api, "Mrs Patel", "CAKE", 4)
    (line,) = order["lines"]
    assert line["fulfilment"] == "production"
    assert line["reserved"] == "0"
    (peg,) = line["pegs"]
    mo = get(api, f"/production-orders/{peg['supply']}")
    assert mo["components"] == [
        {"sku": "FLOUR", "quantity": "2.5", "consumed": "0", "reserved": "0"}
    ]
    (po_row,) = get(api, "/purchase-orders", supplier="MILL")["items"]
    assert po_row["status"] == "draft"
    assert po_row["quantity"] == "25"  # 2.5 kg rounded up to the 25 kg MOQ and sack
    # Flour arrives in 3 days, the cake takes a day more.
    assert line["promise_date"] == str(day_of(order) + timedelta(days=4))
    po = po_row["number"]
    post(api, f"/purchase-orders/{po}/release")
    post(api, f"/purchase-orders/{po}/receipts", {"lines": [{"line": 1, "quantity": 25}]}, 201)
    assert on_hand(api, "FLOUR", "WH") == ("25", "2.5")
    number = peg["supply"]
    post(api, f"/production-orders/{number}/release")
    post(api, f"/production-orders/{number}/start")
    assert on_hand(api, "FLOUR", "WH") == ("22.5", "0")
    done = post(api, f"/production-orders/{number}/produce", {"quantity": 4})
    assert done["status"] == "completed"
    assert on_hand(api, "CAKE", "WH") == ("4", "4")
    shipped = post(api, f"/sales-orders/{order['number']}/shipments", {}, 201)
    assert shipped["status"] == "shipped"
    assert on_hand(api, "CAKE", "WH") == ("0", "0")
    assert on_hand(api, "FLOUR", "WIP") == ("0", "0")
    events = [e["event"] for e in get(api, f"/sales-orders/{order['number']}/history")["events"]]
    assert events == ["sales_order.confirmed", "sales_order.shipped"]


def test_a_furniture_order_pulls_production_whose_components_pull_purchases(
    client: TestClient,
) -> None:
    setup(
        client,
        [
            {"sku": "TABLE", "name": "Oak table", "kind": "made", "policy": "make_to_order"},
            {"sku": "TOP", "name": "Table top", "kind": "made", "policy": "make_to_order"},
            {"sku": "LEG", "name": "Table leg", "policy": "buy_to_order"},
            {"sku": "OAK", "name": "Oak board", "unit": "m2", "policy": "buy_to_order"},
            {"sku": "GLUE", "name": "Glue", "unit": "l"},
        ],
        {
            "TURNER": [{"sku": "LEG", "price": 12, "lead_time_days": 10, "pack_size": 4}],
            "TIMBER": [{"sku": "OAK", "price": 40, "lead_time_days": 5}],
        },
    )
    api = client
    post(api, "/stock/receipts", {"sku": "GLUE", "location": "WH", "quantity": 10}, 201)
    post(
        api,
        "/boms",
        {
            "sku": "TOP",
            "lead_time_days": 2,
            "lines": [
                {"sku": "OAK", "quantity": 2, "scrap": "0.2"},
                {"sku": "GLUE", "quantity": "0.5"},
            ],
        },
        201,
    )
    post(
        api,
        "/boms",
        {
            "sku": "TABLE",
            "lead_time_days": 1,
            "lines": [{"sku": "TOP", "quantity": 1}, {"sku": "LEG", "quantity": 4}],
        },
        201,
    )
    explosion = get(api, "/boms/TABLE/explosion", quantity=2)
    assert [(r["sku"], r["quantity"], r["level"]) for r in explosion] == [
        ("TOP", "2", 1),
        ("OAK", "5", 2),
        ("GLUE", "1", 2),
        ("LEG", "8", 1),
    ]
    order = sell(api, "Studio K", "TABLE", 2)
    (line,) = order["lines"]
    assert line["fulfilment"] == "production"
    table_mo = line["pegs"][0]["supply"]
    mos = {m["sku"]: m for m in get(api, "/production-orders")["items"]}
    assert set(mos) == {"TABLE", "TOP"}
    pos = {p["supplier"]: p for p in get(api, "/purchase-orders")["items"]}
    assert (pos["TURNER"]["quantity"], pos["TIMBER"]["quantity"]) == ("8", "5")
    assert on_hand(api, "GLUE", "WH") == ("10", "1")
    # Legs take 10 days, the longest path: table due the day after.
    assert line["promise_date"] == str(day_of(order) + timedelta(days=11))
    for supplier, qty in (("TURNER", 8), ("TIMBER", 5)):
        po = pos[supplier]["number"]
        post(api, f"/purchase-orders/{po}/release")
        post(api, f"/purchase-orders/{po}/receipts", {"lines": [{"line": 1, "quantity": qty}]}, 201)
    top_mo = mos["TOP"]["number"]
    for step in ("release", "start"):
        post(api, f"/production-orders/{top_mo}/{step}")
    post(api, f"/production-orders/{top_mo}/produce", {"quantity": 1})
    post(api, f"/production-orders/{top_mo}/produce", {"quantity": 1})
    post(api, f"/production-orders/{top_mo}/close")
    assert on_hand(api, "TOP", "WH") == ("2", "2")
    for step in ("release", "start"):
        post(api, f"/production-orders/{table_mo}/{step}")
    post(api, f"/production-orders/{table_mo}/produce", {"quantity": 2})
    shipped = post(api, f"/sales-orders/{order['number']}/shipments", {}, 201)
    assert shipped["status"] == "shipped"
    assert on_hand(api, "GLUE", "WH") == ("9", "0")
    assert on_hand(api, "OAK", "WH") == ("0", "0")


def open_the_shop(engine: Engine) -> None:
    with as_owner(engine) as client:
        setup(
            client,
            [
                {"sku": "TV", "name": "Television", "policy": "drop_ship"},
                {"sku": "CABLE", "name": "Cable", "policy": "buy_to_order"},
                {"sku": "JACKET", "name": "Jacket", "policy": "transfer"},
                {"sku": "MUG", "name": "Mug", "policy": "reorder_point"},
            ],
            {
                "ELEKTRO": [
                    {"sku": "TV", "price": 300, "lead_time_days": 4},
                    {"sku": "CABLE", "price": 2, "lead_time_days": 5, "moq": 10, "pack_size": 5},
                ],
            },
        )


@pytest.fixture
def shop(client: TestClient) -> TestClient:
    """WH and STORE; TV (drop-shipped) and CABLE (bought to order) from ELEKTRO, JACKET
    (transferred), MUG (reorder point): this test's copy of the shop `open_the_shop` made."""
    return client


def test_a_drop_ship_order_is_received_straight_to_the_customer(shop: TestClient) -> None:
    api = shop
    order = sell(api, "Jo", "TV", 2)
    (line,) = order["lines"]
    assert line["fulfilment"] == "drop_ship"
    po = line["pegs"][0]["supply"].split("/")[0]
    purchase = get(api, f"/purchase-orders/{po}")
    assert purchase["drop_ship_customer"] == "Jo"
    assert purchase["lines"][0]["quantity"] == "2"
    conflict(api.post(f"{API}/sales-orders/{order['number']}/shipments", json={}))
    post(api, f"/purchase-orders/{po}/release")
    post(api, f"/purchase-orders/{po}/receipts", {"lines": [{"line": 1, "quantity": 2}]}, 201)
    assert get(api, f"/sales-orders/{order['number']}")["status"] == "shipped"
    assert on_hand(api, "TV", "WH") == ("0", "0")
    moves = get(api, "/items/TV/moves")["items"]
    assert [(m["source"], m["target"], m["quantity"]) for m in moves] == [
        ("supplier", "customer", "2")
    ]


def test_a_store_is_refilled_by_a_transfer_from_the_warehouse(shop: TestClient) -> None:
    api = shop
    post(api, "/stock/receipts", {"sku": "JACKET", "location": "WH", "quantity": 5}, 201)
    post(api, "/stock/receipts", {"sku": "JACKET", "location": "STORE", "quantity": 1}, 201)
    order = sell(api, "Ana", "JACKET", 3, location="STORE")
    (line,) = order["lines"]
    assert (line["reserved"], line["fulfilment"]) == ("1", "transfer")
    transfer = line["pegs"][0]["supply"]
    assert line["promise_date"] == str(day_of(order) + timedelta(days=1))
    assert on_hand(api, "JACKET", "WH") == ("5", "2")
    post(api, f"/transfer-orders/{transfer}/ship")
    assert get(api, f"/transfer-orders/{transfer}")["status"] == "in_transit"
    post(api, f"/transfer-orders/{transfer}/receive")
    assert on_hand(api, "JACKET", "STORE") == ("3", "3")
    assert post(api, f"/sales-orders/{order['number']}/shipments", {}, 201)["status"] == "shipped"
    assert on_hand(api, "JACKET", "WH") == ("3", "0")


def test_a_stocked_item_short_of_stock_is_backordered(shop: TestClient) -> None:
    order = sell(shop, "Kim", "MUG", 2)
    (line,) = order["lines"]
    assert (line["fulfilment"], line["short_at_order"], line["pegs"]) == ("backorder", "2", [])
    assert line["promise_date"] is None


def test_a_backorder_is_filled_by_a_receipt_and_then_shipped(shop: TestClient) -> None:
    api = shop
    sold = sell(api, "Kim", "MUG", 2)
    first = sold["number"]
    second = sell(api, "Lee", "MUG", 4)["number"]
    conflict(api.post(f"{API}/sales-orders/{first}/shipments", json={}))
    post(api, "/stock/receipts", {"sku": "MUG", "location": "WH", "quantity": 5}, 201)
    assert on_hand(api, "MUG", "WH") == ("5", "5")
    kim = get(api, f"/sales-orders/{first}")["lines"][0]
    lee = get(api, f"/sales-orders/{second}")["lines"][0]
    # Filled today (the services' UTC day; the order was placed moments ago, the same day).
    assert (kim["reserved"], kim["promise_date"]) == ("2", day_of(sold).isoformat())
    assert lee["reserved"] == "3"  # partly filled; one still waits
    shipped = post(api, f"/sales-orders/{first}/shipments", {}, 201)
    assert (shipped["status"], shipped["lines"][0]["shipped"]) == ("shipped", "2")
    events = [e["event"] for e in get(api, f"/sales-orders/{first}/history")["events"]]
    assert "sales_line.backorder_filled" in events
    post(api, "/stock/receipts", {"sku": "MUG", "location": "WH", "quantity": 1}, 201)
    assert post(api, f"/sales-orders/{second}/shipments", {}, 201)["status"] == "shipped"
    assert on_hand(api, "MUG", "WH") == ("0", "0")


def test_cancelling_an_order_cancels_its_draft_supply_and_flags_released_supply(
    shop: TestClient, token_for: Callable[..., str]
) -> None:
    api = shop
    maria = token_for("maria@example.com", Role.MANAGER)
    first = sell(api, "A", "CABLE", 4)
    second = sell(api, "B", "CABLE", 9)
    (po,) = get(api, "/purchase-orders")["items"]
    assert po["quantity"] == "15"  # 13 rounded up to packs of 5, one draft for the supplier
    reduced = post(
        api,
        f"/sales-orders/{second['number']}/lines/1/change",
        {"quantity": 2},
        headers={"Authorization": f"Bearer {maria}"},
    )
    assert reduced["lines"][0]["pegs"][0]["quantity"] == "2"
    assert get(api, f"/purchase-orders/{po['number']}")["lines"][0]["quantity"] == "10"
    post(api, f"/sales-orders/{second['number']}/cancel", {"reason": "changed mind"})
    assert get(api, f"/purchase-orders/{po['number']}")["lines"][0]["quantity"] == "10"  # MOQ
    post(api, f"/sales-orders/{first['number']}/cancel")
    assert get(api, f"/purchase-orders/{po['number']}")["status"] == "cancelled"
    audit = get(api, f"/sales-orders/{second['number']}/history")["audit"]
    assert [(a["actor"], a["action"]) for a in audit] == [
        ("owner@example.com", "place_and_confirm"),
        ("maria@example.com", "change_line"),
        ("owner@example.com", "cancel"),
    ]
    third = sell(api, "C", "CABLE", 12)
    po3 = third["lines"][0]["pegs"][0]["supply"].split("/")[0]
    post(api, f"/purchase-orders/{po3}/release")
    post(api, f"/sales-orders/{third['number']}/lines/1/cancel")
    purchase = get(api, f"/purchase-orders/{po3}")
    assert (purchase["status"], purchase["change_requested"]) == ("released", True)


def test_reducing_a_line_gives_back_its_reservation(shop: TestClient) -> None:
    api = shop
    post(api, "/stock/receipts", {"sku": "MUG", "location": "WH", "quantity": 10}, 201)
    order = sell(api, "Lee", "MUG", 6)
    assert on_hand(api, "MUG", "WH") == ("10", "6")
    post(api, f"/sales-orders/{order['number']}/lines/1/change", {"quantity": 4})
    assert on_hand(api, "MUG", "WH") == ("10", "4")
    post(
        api,
        f"/sales-orders/{order['number']}/shipments",
        {"lines": [{"line": 1, "quantity": 3}]},
        201,
    )
    after = post(api, f"/sales-orders/{order['number']}/cancel")
    assert after["status"] == "shipped"
    assert after["lines"][0]["quantity"] == "3"
    assert on_hand(api, "MUG", "WH") == ("7", "0")


def test_a_later_acknowledged_date_moves_the_promise_date(shop: TestClient) -> None:
    api = shop
    order = sell(api, "Max", "CABLE", 3)
    assert order["lines"][0]["promise_date"] == str(day_of(order) + timedelta(days=5))
    po = order["lines"][0]["pegs"][0]["supply"].split("/")[0]
    post(api, f"/purchase-orders/{po}/release")
    later = day_of(order) + timedelta(days=12)
    post(
        api,
        f"/purchase-orders/{po}/acknowledgement",
        {"lines": [{"line": 1, "delivery_date": str(later)}]},
    )
    line = get(api, f"/sales-orders/{order['number']}")["lines"][0]
    assert line["promise_date"] == str(later)
    events = get(api, f"/sales-orders/{order['number']}/history")["events"]
    assert events[-1]["event"] == "promise_date.changed"


def test_invalid_transitions_are_409_problems_that_change_nothing(shop: TestClient) -> None:
    api = shop
    post(api, "/stock/receipts", {"sku": "MUG", "location": "WH", "quantity": 5}, 201)
    order = sell(api, "Zed", "MUG", 2)
    number = order["number"]
    post(api, f"/sales-orders/{number}/cancel")
    body = conflict(api.post(f"{API}/sales-orders/{number}/shipments", json={}))
    assert "cancelled" in body["detail"]
    conflict(api.post(f"{API}/sales-orders/{number}/confirm"))
    conflict(api.post(f"{API}/sales-orders/{number}/lines/1/cancel"))
    cable = sell(api, "Y", "CABLE", 10)
    po = cable["lines"][0]["pegs"][0]["supply"].split("/")[0]
    conflict(
        api.post(
            f"{API}/purchase-orders/{po}/receipts", json={"lines": [{"line": 1, "quantity": 1}]}
        )
    )
    post(api, f"/purchase-orders/{po}/release")
    post(api, f"/purchase-orders/{po}/receipts", {"lines": [{"line": 1, "quantity": 10}]}, 201)
    post(api, f"/purchase-orders/{po}/close")
    body = conflict(
        api.post(
            f"{API}/purchase-orders/{po}/receipts", json={"lines": [{"line": 1, "quantity": 1}]}
        )
    )
    assert "closed" in body["detail"]
    conflict(api.post(f"{API}/purchase-orders/{po}/cancel"))
    assert on_hand(api, "CABLE", "WH") == ("10", "10")
    assert on_hand(api, "MUG", "WH") == ("5", "0")
    too_much = api.post(
        f"{API}/sales-orders/{cable['number']}/shipments",
        json={"lines": [{"line": 1, "quantity": 11}]},
    )
    conflict(too_much)
    missing = api.get(f"{API}/sales-orders/SO-999999")
    assert missing.status_code == 404


def test_over_receipt_beyond_tolerance_is_refused(shop: TestClient) -> None:
    api = shop
    cable = sell(api, "Y", "CABLE", 10)
    po = cable["lines"][0]["pegs"][0]["supply"].split("/")[0]
    post(api, f"/purchase-orders/{po}/release")
    body = conflict(
        api.post(
            f"{API}/purchase-orders/{po}/receipts", json={"lines": [{"line": 1, "quantity": 12}]}
        )
    )
    assert "tolerance" in body["detail"]
    receipt = {"lines": [{"line": 1, "quantity": 8, "rejected": 3}]}
    post(api, f"/purchase-orders/{po}/receipts", receipt, 201)
    assert on_hand(api, "CABLE", "QUARANTINE") == ("3", "0")
    assert on_hand(api, "CABLE", "WH") == ("8", "8")


def test_bad_order_input_is_a_problem_naming_the_field(shop: TestClient) -> None:
    api = shop
    for body, field in (
        ({"customer": "X", "lines": [{"sku": "MUG", "quantity": 1}]}, "location"),
        ({"customer": "X", "location": "WH", "lines": []}, "lines"),
        (
            {"customer": "X", "location": "MARS", "lines": [{"sku": "MUG", "quantity": 1}]},
            "location",
        ),
        (
            {"customer": "X", "location": "customer", "lines": [{"sku": "MUG", "quantity": 1}]},
            "location",
        ),
        ({"customer": "X", "location": "WH", "lines": [{"sku": "NOPE", "quantity": 1}]}, "sku"),
        ({"customer": "X", "location": "WH", "lines": [{"sku": "MUG", "quantity": 0}]}, "quantity"),
        (
            {
                "customer": "X",
                "location": "WH",
                "lines": [{"sku": "MUG", "quantity": 1}],
                "rush": 1,
            },
            "rush",
        ),
    ):
        response = api.post(f"{API}/sales-orders", json=body)
        assert response.status_code == 422, response.text
        assert field in [e["field"].split(".")[-1] for e in response.json()["errors"]], (
            response.json()
        )
    assert get(api, "/sales-orders")["total"] == 0


def test_100_concurrent_identical_posts_with_one_key_make_one_order(shop: TestClient) -> None:
    api = shop
    body = {
        "customer": "Burst",
        "location": "WH",
        "lines": [{"sku": "CABLE", "quantity": 1}],
        "confirm": True,
    }

    def place(_: int) -> tuple[int, str]:
        r = api.post(f"{API}/sales-orders", json=body, headers={"Idempotency-Key": "order-1"})
        return r.status_code, r.text

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(place, range(100)))
    assert {status for status, _ in results} == {201}
    assert len({text for _, text in results}) == 1
    assert get(api, "/sales-orders")["total"] == 1
    other = api.post(
        f"{API}/sales-orders",
        json={**body, "customer": "Other"},
        headers={"Idempotency-Key": "order-1"},
    )
    assert other.status_code == 422


def test_a_draft_order_quotes_promise_dates_before_the_customer_commits(
    shop: TestClient,
) -> None:
    api = shop
    post(api, "/stock/receipts", {"sku": "MUG", "location": "WH", "quantity": 5}, 201)
    post(api, "/stock/receipts", {"sku": "JACKET", "location": "WH", "quantity": 5}, 201)
    body = {
        "customer": "Quote",
        "location": "WH",
        "lines": [
            {"sku": "MUG", "quantity": 2},
            {"sku": "CABLE", "quantity": 3},
            {"sku": "TV", "quantity": 1},
            {"sku": "JACKET", "quantity": 2, "location": "STORE"},
        ],
    }
    draft = post(api, "/sales-orders", body, 201)
    promised = [line["promise_date"] for line in draft["lines"]]
    days = [0, 5, 4, 1]
    assert promised == [str(day_of(draft) + timedelta(days=d)) for d in days]
    assert on_hand(api, "MUG", "WH") == ("5", "0")
    assert get(api, "/purchase-orders")["total"] == 0
    confirmed = post(api, f"/sales-orders/{draft['number']}/confirm")
    assert [line["promise_date"] for line in confirmed["lines"]] == promised


def test_a_requested_date_that_cannot_be_met_says_so_on_the_line(bakery: TestClient) -> None:
    api = bakery
    today = datetime.now(UTC).date()  # the services' day; read when used, not at import
    tomorrow = today + timedelta(days=1)
    body = {"sku": "FLOUR", "quantity": 5, "requested_date": str(tomorrow)}
    order = post(api, "/sales-orders", {"customer": "Ann", "location": "WH", "lines": [body]}, 201)
    today = day_of(order)
    draft = order["lines"][0]
    assert draft["promise_date"] == str(today + timedelta(days=3))  # the mill's lead time
    assert draft["misses_request"] is True
    assert f"requested for {tomorrow}" in draft["promise_note"]
    assert "2 days late" in draft["promise_note"]
    confirmed = post(api, f"/sales-orders/{order['number']}/confirm")
    assert confirmed["lines"][0]["misses_request"] is True
    later = dict(body, requested_date=str(today + timedelta(days=10)))
    met = sell(api, "Bo", "FLOUR", 5, lines=[later])["lines"][0]
    assert met["promise_date"] == str(today + timedelta(days=10))
    assert (met["misses_request"], met["promise_note"]) == (False, None)


def test_a_customer_return_goes_back_to_stock_and_nets_out_of_the_order(shop: TestClient) -> None:
    api = shop
    post(api, "/stock/receipts", {"sku": "MUG", "location": "WH", "quantity": 5}, 201)
    number = sell(api, "Kim", "MUG", 3)["number"]
    post(api, f"/sales-orders/{number}/shipments", {}, 201)
    waiting = sell(api, "Lee", "MUG", 3)["number"]  # 2 left: one waits
    back = {"line": 1, "quantity": 1, "to": "stock", "note": "wrong colour"}
    order = post(api, f"/sales-orders/{number}/returns", back, 201)
    assert order["lines"][0]["returned"] == "1"
    assert get(api, f"/sales-orders/{waiting}")["lines"][0]["reserved"] == "3"
    scrapped = {"line": 1, "quantity": 1, "to": "scrap", "reason": "damage"}
    post(api, f"/sales-orders/{number}/returns", scrapped, 201)
    too_many = api.post(f"{API}/sales-orders/{number}/returns", json=back | {"quantity": 2})
    assert too_many.status_code == 422
    assert "1 shipped and not returned" in too_many.json()["detail"]
    no_reason = api.post(
        f"{API}/sales-orders/{number}/returns", json={"line": 1, "quantity": 1, "to": "scrap"}
    )
    assert no_reason.status_code == 422
    assert on_hand(api, "MUG", "WH") == ("3", "3")
    events = [e["event"] for e in get(api, f"/sales-orders/{number}/history")["events"]]
    assert events.count("sales_line.returned") == 2
