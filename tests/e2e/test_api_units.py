"""Units on documents through the HTTP API and the CLI (SQLite and PostgreSQL): flour bought in
25 kg sacks and stocked in kg, eggs sold by the dozen and stocked each."""

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


def test_terms_orders_and_receipts_in_sacks_and_sales_in_dozens_post_in_the_stock_unit(
    client: TestClient, db_url: str
) -> None:
    api = client
    call(api, "POST", "/locations", {"code": "WH", "name": "Warehouse"}, 201)
    call(api, "POST", "/items", {"sku": "FLOUR", "name": "Flour", "unit": "kg"}, 201)
    call(api, "POST", "/items", {"sku": "EGG", "name": "Egg"}, 201)
    call(api, "PUT", "/items/FLOUR/units/sack", {"factor": "25"})
    call(api, "PUT", "/items/EGG/units/dozen", {"factor": "12"})
    call(api, "POST", "/suppliers", {"code": "MILL", "name": "Mill"}, 201)

    terms = {"sku": "FLOUR", "price": "20", "lead_time_days": 3, "moq": "4", "unit": "sack"}
    terms["price_breaks"] = [{"min_quantity": "10", "price": "18.5"}]
    kept = call(api, "POST", "/suppliers/MILL/items", terms, 201)
    assert (kept["price"], kept["moq"], kept["pack_size"]) == ("0.8", "100", "25")
    assert kept["price_breaks"] == [{"min_quantity": "250", "price": "0.74"}]
    bad = api.post(f"{API}/suppliers/MILL/items", json=terms | {"sku": "EGG", "unit": "sack"})
    assert bad.status_code == 422
    assert "'sack'" in bad.json()["detail"]
    assert "dozen" in bad.json()["detail"]

    line = {"sku": "FLOUR", "quantity": "3", "location": "WH", "price": "21", "unit": "sack"}
    po = call(api, "POST", "/purchase-orders", {"supplier": "MILL", "lines": [line]}, 201)
    assert [(ln["quantity"], ln["price"]) for ln in po["lines"]] == [("75", "0.84")]
    number = po["number"]
    call(api, "POST", f"/purchase-orders/{number}/release")
    refused = api.post(
        f"{API}/purchase-orders/{number}/receipts",
        json={"lines": [{"line": 1, "quantity": "1", "unit": "crate"}]},
    )
    assert refused.status_code == 422
    assert "'crate'" in refused.json()["detail"]
    code = CliRunner().invoke(
        app, ["--database", db_url, "receive-po", number, "--line", "1:2", "--unit", "sack"]
    )
    assert code.exit_code == 0, code.output
    stock = call(api, "GET", "/stock?sku=FLOUR")["items"]
    assert [(r["location"], r["on_hand"]) for r in stock] == [("WH", "50")]
    value = call(api, "GET", "/stock/value?sku=FLOUR")
    assert str(value["total_value"]) == "42"  # 50 kg at 0.84

    sale: dict[str, Any] = {"customer": "Cafe", "location": "WH"}
    sale["lines"] = [{"sku": "EGG", "quantity": "1.5", "unit": "dozen"}]
    order = call(api, "POST", "/sales-orders", sale, 201)
    assert [ln["quantity"] for ln in order["lines"]] == ["18"]
    half_egg = api.post(
        f"{API}/sales-orders",
        json=sale | {"lines": [{"sku": "EGG", "quantity": "0.125", "unit": "dozen"}]},
    )
    assert half_egg.status_code == 422
    assert "whole" in half_egg.json()["detail"]
