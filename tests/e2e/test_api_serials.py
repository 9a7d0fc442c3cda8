"""Serial numbers through the HTTP API and the CLI (SQLite and PostgreSQL): received one per
unit, shipped by name, refused with a problem naming the serial, and traced for a recall."""

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


def where(api: TestClient) -> dict[str, str]:
    page = call(api, "GET", "/items/ESPRESSO/serials")
    return {s["serial"]: s["location"] for s in page["items"]}


def test_a_serial_is_received_shipped_refused_twice_and_traced_to_its_customer(
    client: TestClient, db_url: str
) -> None:
    api = client
    call(api, "POST", "/locations", {"code": "WH", "name": "Warehouse"}, 201)
    machine = {"sku": "ESPRESSO", "name": "Espresso machine", "serial_tracked": True}
    item = call(api, "POST", "/items", machine | {"lot_tracked": True}, 201)
    assert (item["serial_tracked"], item["divisible"]) == (True, False)
    call(api, "POST", "/suppliers", {"code": "ROMA", "name": "Roma"}, 201)
    receipt = {"sku": "ESPRESSO", "location": "WH", "quantity": 3, "lot": "B7", "supplier": "ROMA"}
    call(api, "POST", "/stock/receipts", receipt | {"serials": ["E1", "E2", "E3"]}, 201)

    again = api.post(f"{API}/stock/receipts", json=receipt | {"serials": ["E4", "E5", "E2"]})
    assert again.status_code == 409, again.text
    assert again.headers["content-type"].startswith("application/problem+json")
    assert "E2" in again.json()["detail"]
    short = api.post(f"{API}/stock/receipts", json=receipt | {"serials": ["E4"]})
    assert short.status_code == 422
    assert "serials" in short.json()["detail"]

    sale = {"customer": "Cafe Nero", "location": "WH", "confirm": True}
    sale["lines"] = [{"sku": "ESPRESSO", "quantity": 1}]
    order = call(api, "POST", "/sales-orders", sale, 201)["number"]
    unnamed = api.post(f"{API}/sales-orders/{order}/shipments", json={})
    assert unnamed.status_code == 422
    assert "serial" in unnamed.json()["detail"]
    lines = {"lines": [{"line": 1, "quantity": 1, "serials": ["E2"]}]}
    call(api, "POST", f"/sales-orders/{order}/shipments", lines, 201)

    twice = api.post(
        f"{API}/stock/shipments",
        json={"sku": "ESPRESSO", "location": "WH", "quantity": 1, "serials": ["E2"]},
    )
    assert twice.status_code == 409
    assert "E2" in twice.json()["detail"]
    unknown = api.post(
        f"{API}/stock/shipments",
        json={"sku": "ESPRESSO", "location": "WH", "quantity": 1, "serials": ["E9"]},
    )
    assert unknown.status_code == 422
    assert "E9" in unknown.json()["detail"]
    assert where(api) == {"E1": "WH", "E2": "customer", "E3": "WH"}

    trace = call(api, "GET", "/items/ESPRESSO/serials/E2")
    assert (trace["supplier"], trace["customer"], trace["lot"]) == ("ROMA", "Cafe Nero", "B7")
    assert [(m["kind"], m["source"], m["target"]) for m in trace["moves"]] == [
        ("receipt", "supplier", "WH"),
        ("shipment", "WH", "customer"),
    ]
    recall = call(api, "GET", "/lots/ESPRESSO/B7/trace")["customers"]
    assert [(c["customer"], c["serials"]) for c in recall] == [("Cafe Nero", ["E2"])]
    assert api.get(f"{API}/items/ESPRESSO/serials/NOPE").status_code == 404

    cli = CliRunner()
    db = ["--database", db_url]
    moved = cli.invoke(app, [*db, "transfer", "ESPRESSO", "WH", "SHOP", "1", "--serial", "E1"])
    assert moved.exit_code == 2  # no location SHOP: refused, nothing moved
    scrapped = cli.invoke(app, [*db, "scrap", "ESPRESSO", "WH", "1", "damage", "--serial", "E3"])
    assert scrapped.exit_code == 0, scrapped.output
    shown = cli.invoke(app, [*db, "serial", "ESPRESSO", "E3"])
    assert shown.exit_code == 0, shown.output
    assert "scrap" in shown.output
    assert where(api) == {"E1": "WH", "E2": "customer", "E3": "scrap"}


def test_a_transfer_order_and_the_quarantine_carry_serials_through_the_api_and_the_cli(
    client: TestClient, db_url: str
) -> None:
    api = client
    call(api, "POST", "/locations", {"code": "WH", "name": "Warehouse"}, 201)
    call(api, "POST", "/locations", {"code": "SHOP", "name": "Shop", "kind": "store"}, 201)
    machine = {"sku": "ESPRESSO", "name": "Espresso machine", "serial_tracked": True}
    call(api, "POST", "/items", machine, 201)
    call(api, "POST", "/suppliers", {"code": "ROMA", "name": "Roma"}, 201)
    receipt = {"sku": "ESPRESSO", "location": "WH", "quantity": 3, "supplier": "ROMA"}
    call(api, "POST", "/stock/receipts", receipt | {"serials": ["E1", "E2", "E3"]}, 201)

    order = {"sku": "ESPRESSO", "source": "WH", "target": "SHOP", "quantity": 2}
    number = call(api, "POST", "/transfer-orders", order, 201)["number"]
    unnamed = api.post(f"{API}/transfer-orders/{number}/ship", json={})
    assert unnamed.status_code == 422
    assert "serials" in unnamed.json()["detail"]
    unknown = api.post(f"{API}/transfer-orders/{number}/ship", json={"serials": ["E1", "E9"]})
    assert unknown.status_code == 422
    assert "E9" in unknown.json()["detail"]
    assert call(api, "GET", f"/transfer-orders/{number}")["status"] == "draft"
    call(api, "POST", f"/transfer-orders/{number}/ship", {"serials": ["E1", "E2"]})
    assert where(api) == {"E1": "in_transit", "E2": "in_transit", "E3": "WH"}
    stray = api.post(f"{API}/transfer-orders/{number}/receive", json={"serials": ["E3"]})
    assert stray.status_code == 409
    assert "E3" in stray.json()["detail"]
    got = call(api, "POST", f"/transfer-orders/{number}/receive", {"serials": ["E2"]})
    assert (got["status"], got["received"]) == ("received", "1")
    assert where(api) == {"E1": "adjustment", "E2": "SHOP", "E3": "WH"}

    cli = CliRunner()
    db = ["--database", db_url]
    again = call(api, "POST", "/transfer-orders", order | {"quantity": 1}, 201)["number"]
    shipped = cli.invoke(app, [*db, "ship-transfer", again, "--serial", "E3"])
    assert shipped.exit_code == 0, shipped.output
    received = cli.invoke(app, [*db, "receive-transfer", again])
    assert received.exit_code == 0, received.output
    assert where(api)["E3"] == "SHOP"

    line = {"sku": "ESPRESSO", "quantity": 3, "location": "WH", "price": 300}
    po = call(api, "POST", "/purchase-orders", {"supplier": "ROMA", "lines": [line]}, 201)
    call(api, "POST", f"/purchase-orders/{po['number']}/release")
    reject = {"line": 1, "quantity": 1, "rejected": 2, "serials": ["P1"]}
    call(api, "POST", f"/purchase-orders/{po['number']}/receipts", {"lines": [reject]}, 422)
    reject["rejected_serials"] = ["Q1", "Q2"]
    call(api, "POST", f"/purchase-orders/{po['number']}/receipts", {"lines": [reject]}, 201)
    assert {k: v for k, v in where(api).items() if k[0] in "PQ"} == {
        "P1": "WH",
        "Q1": "QUARANTINE",
        "Q2": "QUARANTINE",
    }
    release = {"sku": "ESPRESSO", "quantity": 1, "location": "SHOP", "serials": ["P1"]}
    elsewhere = api.post(f"{API}/stock/quarantine/releases", json=release)
    assert elsewhere.status_code == 409
    assert "P1" in elsewhere.json()["detail"]
    call(api, "POST", "/stock/quarantine/releases", release | {"serials": ["Q1"]}, 201)
    back = [*db, "quarantine", "return", "ESPRESSO", "1", "--supplier", "ROMA", "--serial", "Q2"]
    returned = cli.invoke(app, back)
    assert returned.exit_code == 0, returned.output
    assert {k: v for k, v in where(api).items() if k[0] == "Q"} == {
        "Q1": "SHOP",
        "Q2": "supplier",
    }


def test_production_carries_component_and_output_serials_through_the_api_and_the_cli(
    client: TestClient, db_url: str
) -> None:
    api = client
    call(api, "POST", "/locations", {"code": "WH", "name": "Warehouse"}, 201)
    call(api, "POST", "/items", {"sku": "BOILER", "name": "Boiler", "serial_tracked": True}, 201)
    machine = {"sku": "ESPRESSO", "name": "Espresso machine", "serial_tracked": True}
    call(api, "POST", "/items", machine | {"kind": "made"}, 201)
    receipt = {"sku": "BOILER", "location": "WH", "quantity": 2, "serials": ["B1", "B2"]}
    call(api, "POST", "/stock/receipts", receipt, 201)
    call(
        api, "POST", "/boms", {"sku": "ESPRESSO", "lines": [{"sku": "BOILER", "quantity": 1}]}, 201
    )
    order = {"sku": "ESPRESSO", "quantity": 1, "location": "WH"}
    first = call(api, "POST", "/production-orders", order, 201)["number"]
    call(api, "POST", f"/production-orders/{first}/release")
    unnamed = api.post(f"{API}/production-orders/{first}/start", json={})
    assert unnamed.status_code == 422
    assert "BOILER" in unnamed.json()["detail"]
    call(api, "POST", f"/production-orders/{first}/start", {"serials": {"BOILER": ["B2"]}})
    made = call(
        api, "POST", f"/production-orders/{first}/produce", {"quantity": 1, "serials": ["M1"]}
    )
    assert made["produced"] == "1"
    assert where(api) == {"M1": "WH"}

    cli = CliRunner()
    db = ["--database", db_url]
    second = call(api, "POST", "/production-orders", order, 201)["number"]
    call(api, "POST", f"/production-orders/{second}/release")
    started = cli.invoke(app, [*db, "start-production", second, "--serial", "BOILER=B1"])
    assert started.exit_code == 0, started.output
    twice = cli.invoke(app, [*db, "produce", second, "1", "--serial", "M1"])
    assert twice.exit_code != 0
    assert "M1" in twice.output
    produced = cli.invoke(app, [*db, "produce", second, "1", "--serial", "M2"])
    assert produced.exit_code == 0, produced.output
    assert where(api) == {"M1": "WH", "M2": "WH"}
    boilers = call(api, "GET", "/items/BOILER/serials")
    assert {s["serial"]: s["location"] for s in boilers["items"]} == {
        "B1": "production",
        "B2": "production",
    }


def test_a_count_names_the_serials_found_through_the_api_and_the_cli(
    client: TestClient, db_url: str
) -> None:
    api = client
    call(api, "POST", "/locations", {"code": "WH", "name": "Warehouse"}, 201)
    machine = {"sku": "ESPRESSO", "name": "Espresso machine", "serial_tracked": True}
    call(api, "POST", "/items", machine, 201)
    receipt = {"sku": "ESPRESSO", "location": "WH", "quantity": 2, "serials": ["E1", "E2"]}
    call(api, "POST", "/stock/receipts", receipt, 201)
    count = {"sku": "ESPRESSO", "location": "WH", "counted": 2}
    unnamed = api.post(f"{API}/stock/counts", json=count)
    assert unnamed.status_code == 422
    assert "serials" in unnamed.json()["detail"]
    call(api, "POST", "/stock/counts", count | {"serials": ["E1", "E3"]}, 201)
    assert where(api) == {"E1": "WH", "E2": "adjustment", "E3": "WH"}

    cli = CliRunner()
    db = ["--database", db_url]
    counted = cli.invoke(app, [*db, "count", "ESPRESSO", "WH", "1", "--serial", "E2"])
    assert counted.exit_code == 0, counted.output
    assert where(api) == {"E1": "adjustment", "E2": "WH", "E3": "adjustment"}
    levels = call(api, "GET", "/stock?sku=ESPRESSO&location=WH")["items"]
    assert [row["on_hand"] for row in levels] == ["1"]


def test_shipping_a_reservation_names_its_serials_through_the_api(client: TestClient) -> None:
    api = client
    call(api, "POST", "/locations", {"code": "WH", "name": "Warehouse"}, 201)
    machine = {"sku": "ESPRESSO", "name": "Espresso machine", "serial_tracked": True}
    call(api, "POST", "/items", machine, 201)
    receipt = {"sku": "ESPRESSO", "location": "WH", "quantity": 2, "serials": ["E1", "E2"]}
    call(api, "POST", "/stock/receipts", receipt, 201)
    hold = {"sku": "ESPRESSO", "location": "WH", "quantity": 1, "reference": "TILL-1"}
    held = call(api, "POST", "/reservations", hold, 201)["id"]
    unnamed = api.post(f"{API}/reservations/{held}/consume", json={})
    assert unnamed.status_code == 422
    assert "serials" in unnamed.json()["detail"]
    call(api, "POST", f"/reservations/{held}/consume", {"serials": ["E2"]}, 201)
    assert where(api) == {"E1": "WH", "E2": "customer"}
