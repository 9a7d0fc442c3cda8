"""A lot traced end to end through the HTTP API and the CLI (SQLite and PostgreSQL): received
at the warehouse, transferred to the bakery, consumed into a batch, sold, and traced back and
forward."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from leanstock.entrypoints.cli import app

API = "/api/v1"


def call(api: TestClient, method: str, path: str, body: Any = None, status: int = 200) -> Any:
    response = api.request(method, f"{API}{path}", json=body)
    assert response.status_code == status, response.text
    return response.json()


def test_a_lot_is_traced_from_the_mill_to_the_customer_and_back(
    client: TestClient, db_url: str
) -> None:
    api = client
    call(api, "POST", "/locations", {"code": "WH", "name": "Warehouse"}, 201)
    call(api, "POST", "/locations", {"code": "BAKERY", "name": "Bakery", "kind": "store"}, 201)
    flour = {"sku": "FLOUR", "name": "Flour", "unit": "kg", "lot_tracked": True}
    bread = {"sku": "BREAD", "name": "Bread", "kind": "made", "lot_tracked": True}
    call(api, "POST", "/items", flour | {"shelf_life_days": 90}, 201)
    call(api, "POST", "/items", bread | {"shelf_life_days": 2}, 201)
    call(api, "POST", "/suppliers", {"code": "MILL", "name": "Mill"}, 201)
    receipt = {"sku": "FLOUR", "location": "WH", "quantity": 10, "lot": "F1", "supplier": "MILL"}
    call(api, "POST", "/stock/receipts", receipt, 201)
    move = {"sku": "FLOUR", "source": "WH", "target": "BAKERY", "quantity": 6}
    transfer = call(api, "POST", "/transfer-orders", move, 201)["number"]
    call(api, "POST", f"/transfer-orders/{transfer}/ship")
    call(api, "POST", f"/transfer-orders/{transfer}/receive")
    lots = call(api, "GET", "/items/FLOUR/lots?location=BAKERY")
    assert [(r["lot"], r["quantity"]) for r in lots] == [("F1", "6")]
    recipe = {"sku": "BREAD", "lines": [{"sku": "FLOUR", "quantity": "0.5"}]}
    call(api, "POST", "/boms", recipe, 201)
    make = {"sku": "BREAD", "quantity": 4, "location": "BAKERY"}
    batch = call(api, "POST", "/production-orders", make, 201)["number"]
    for step in ("release", "start"):
        call(api, "POST", f"/production-orders/{batch}/{step}")
    call(api, "POST", f"/production-orders/{batch}/produce", {"quantity": 4})
    sale = {"customer": "Deli", "location": "BAKERY", "confirm": True}
    sale["lines"] = [{"sku": "BREAD", "quantity": 3}]
    order = call(api, "POST", "/sales-orders", sale, 201)["number"]
    call(api, "POST", f"/sales-orders/{order}/shipments", {}, 201)

    forward = call(api, "GET", "/lots/FLOUR/F1/trace")
    assert forward["on_hand"] == {"BAKERY": "4", "WH": "4"}
    assert [(r["supplier"], r["quantity"]) for r in forward["supplier_lots"]] == [("MILL", "10")]
    assert forward["downstream"] == [{"sku": "BREAD", "lot": batch}]
    assert [b["reference"] for b in forward["used_in"]] == [batch]
    recall = [
        (c["sku"], c["lot"], c["customer"], c["reference"], c["quantity"])
        for c in forward["customers"]
    ]
    assert recall == [("BREAD", batch, "Deli", order, "3")]

    backward = call(api, "GET", f"/lots/BREAD/{batch}/trace")
    assert backward["upstream"] == [{"sku": "FLOUR", "lot": "F1"}]
    assert [(r["sku"], r["lot"], r["supplier"]) for r in backward["supplier_lots"]] == [
        ("FLOUR", "F1", "MILL")
    ]
    (made,) = backward["made_in"]
    assert made["used"] == [{"sku": "FLOUR", "lot": "F1", "quantity": "2"}]
    assert backward["on_hand"] == {"BAKERY": "1"}

    missing = api.get(f"{API}/lots/FLOUR/NOPE/trace")
    assert missing.status_code == 404
    assert "NOPE" in missing.json()["detail"]

    result = CliRunner().invoke(app, ["--database", db_url, "trace", "FLOUR", "F1"])
    assert result.exit_code == 0, result.output
    assert "Deli" in result.output
    assert order in result.output
