"""Stock value through HTTP: FIFO and moving average against hand-computed examples, units of
measure, and bad input that names its field and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from conftest import OWNER, Templates, make_token
from leanstock.domain.access import Role
from leanstock.entrypoints.api.app import create_app

API = "/api/v1"
NOW = datetime.now(UTC).replace(microsecond=0)


def ago(days: int) -> str:
    return (NOW - timedelta(days=days)).isoformat()


@pytest.fixture
def db_url(db_kind: str, templates: Templates, request: pytest.FixtureRequest) -> Iterator[str]:
    """A copy of the template `open_the_shop` wrote (once per session and worker) for the
    tests that ask for `api`."""
    with templates.for_test(request, db_kind, {"api": ("valuation_shop", open_the_shop)}) as url:
        yield url


def open_the_shop(engine: Engine) -> None:
    """WH and STORE; CUP (0.1 a cup), TEA (moving average), FLOUR and CHAIR (whole chairs),
    no stock: made through the API, as an owner."""
    owner = {"Authorization": f"Bearer {make_token(engine, OWNER, Role.OWNER)}"}
    with TestClient(create_app(engine=engine), headers=owner) as client:
        fit_out(client)


@pytest.fixture
def api(client: TestClient) -> TestClient:
    """The owner's client on this test's copy of the shop `open_the_shop` made."""
    return client


def fit_out(client: TestClient) -> None:
    for place in (
        {"code": "WH", "name": "Warehouse"},
        {"code": "STORE", "name": "Store", "kind": "store"},
    ):
        assert client.post(f"{API}/locations", json=place).status_code == 201
    for body in (
        {"sku": "CUP", "name": "Paper cup", "category": "packaging", "unit_cost": "0.1"},
        {"sku": "TEA", "name": "Tea", "unit": "kg", "costing": "moving_average"},
        {"sku": "FLOUR", "name": "Flour", "unit": "kg", "category": "bakery"},
        {"sku": "CHAIR", "name": "Chair", "divisible": False},
    ):
        assert client.post(f"{API}/items", json=body).status_code == 201, body


def post(api: TestClient, path: str, body: dict[str, Any], status: int = 201) -> Any:
    response = api.post(f"{API}{path}", json=body)
    assert response.status_code == status, response.text
    return response.json()


def value_lines(api: TestClient, **params: str) -> dict[tuple[str, str], tuple[str, str]]:
    response = api.get(f"{API}/stock/value", params=params)
    assert response.status_code == 200, response.text
    return {
        (x["sku"], x["location"]): (str(x["quantity"]), str(x["value"]))
        for x in response.json()["lines"]
    }


def test_fifo_and_moving_average_through_http(api: TestClient) -> None:
    for sku in ("CUP", "TEA"):
        receipt = {"sku": sku, "location": "WH", "quantity": 10, "occurred_at": ago(3)}
        post(api, "/stock/receipts", {**receipt, "unit_cost": "2"})
        post(api, "/stock/receipts", {**receipt, "unit_cost": "3", "occurred_at": ago(2)})
        post(api, "/stock/shipments", {"sku": sku, "location": "WH", "quantity": 15})
    assert value_lines(api) == {("CUP", "WH"): ("5", "15"), ("TEA", "WH"): ("5", "12.5")}
    total = api.get(f"{API}/stock/value").json()["total_value"]
    assert str(total) == "27.5"
    flows = api.get(f"{API}/stock/cost-flows", params={"since": ago(1)}).json()
    assert str(flows["cost_of_goods_sold"]) == "72.5"  # 35 FIFO + 37.5 average
    by_sku = {x["sku"]: x for x in flows["lines"]}
    assert str(by_sku["CUP"]["opening_value"]) == "50"
    assert str(by_sku["CUP"]["flows"]["sold"]) == "-35"
    past = value_lines(api, as_of=ago(2), category="packaging")
    assert past == {("CUP", "WH"): ("20", "50")}


def test_a_receipt_in_sacks_posts_kilograms_at_the_cost_per_kilogram(api: TestClient) -> None:
    unit = api.put(f"{API}/items/FLOUR/units/sack", json={"factor": "25"})
    assert unit.status_code == 200, unit.text
    lines = [{"sku": "FLOUR", "quantity": 2, "unit": "sack", "unit_cost": "20"}]
    operation = post(api, "/stock/receipts", {"location": "WH", "lines": lines})
    assert str(operation["moves"][0]["quantity"]) == "50"
    assert value_lines(api) == {("FLOUR", "WH"): ("50", "40")}
    units = api.get(f"{API}/items/FLOUR/units").json()
    assert [(u["unit"], str(u["factor"])) for u in units] == [("sack", "25")]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/stock/receipts", {"sku": "FLOUR", "quantity": 2, "unit": "bag"}, "unit"),
        ("/stock/receipts", {"sku": "CUP", "quantity": 2, "unit_cost": "-1"}, "unit_cost"),
        ("/stock/receipts", {"sku": "CHAIR", "quantity": "1.5"}, "quantity"),
        ("/stock/counts", {"sku": "CUP", "counted": 5, "unit_cost": "-0.5"}, "unit_cost"),
        (
            "/stock/receipts",
            {"lines": [{"sku": "CUP", "quantity": 1}], "unit_cost": "1"},
            "unit_cost",
        ),
    ],
)
def test_bad_costs_and_units_are_refused_and_change_nothing(
    api: TestClient, path: str, body: dict[str, Any], field: str
) -> None:
    response = api.post(f"{API}{path}", json={"location": "WH", **body})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json().get("errors", [])], response.json()
    assert value_lines(api) == {}


def test_the_costing_method_is_set_before_stock_moves_and_then_stays(api: TestClient) -> None:
    assert api.get(f"{API}/settings/costing").json() == {"method": "fifo"}
    changed = api.put(f"{API}/settings/costing", json={"method": "moving_average"})
    assert changed.status_code == 200, changed.text
    post(api, "/stock/receipts", {"sku": "CUP", "location": "WH", "quantity": 1})
    refused = api.put(f"{API}/settings/costing", json={"method": "fifo"})
    assert refused.status_code == 422
    assert api.get(f"{API}/settings/costing").json() == {"method": "moving_average"}
    bad = api.put(f"{API}/settings/costing", json={"method": "lifo"})
    assert bad.status_code == 422
    item = api.patch(f"{API}/items/CUP", json={"costing": "fifo"})
    assert item.status_code == 422
    assert api.get(f"{API}/items/CUP").json()["costing"] is None
