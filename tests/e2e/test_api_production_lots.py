"""Production that names the component lots it uses instead of first-expired-first-out,
through the HTTP API and the CLI (SQLite and PostgreSQL): the named lots are issued and
consumed, and an unknown, expired or too small lot is refused with a 4xx that changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from leanstock.entrypoints.cli import app

API = "/api/v1"


def call(api: TestClient, method: str, path: str, body: Any = None, status: int = 200) -> Any:
    response = api.request(method, f"{API}{path}", json=body)
    assert response.status_code == status, response.text
    return response.json()


def _bakery(api: TestClient) -> str:
    """A bakery with flour in two lots (3 kg of F1, which expires first, and 5 kg of F2) and
    a released order for 4 breads of 0.5 kg flour each (2 kg)."""
    today = datetime.now(UTC).date()
    call(api, "POST", "/locations", {"code": "BAKERY", "name": "Bakery", "kind": "store"}, 201)
    flour = {"sku": "FLOUR", "name": "Flour", "unit": "kg", "lot_tracked": True}
    call(api, "POST", "/items", flour, 201)
    bread = {"sku": "BREAD", "name": "Bread", "kind": "made", "lot_tracked": True}
    call(api, "POST", "/items", bread | {"shelf_life_days": 2}, 201)
    for lot, quantity, days in (("F1", 3, 10), ("F2", 5, 20)):
        receipt = {"sku": "FLOUR", "location": "BAKERY", "quantity": quantity, "lot": lot}
        expires = (today + timedelta(days=days)).isoformat()
        call(api, "POST", "/stock/receipts", receipt | {"expires_on": expires}, 201)
    call(
        api, "POST", "/boms", {"sku": "BREAD", "lines": [{"sku": "FLOUR", "quantity": "0.5"}]}, 201
    )
    order = call(
        api,
        "POST",
        "/production-orders",
        {"sku": "BREAD", "quantity": 4, "location": "BAKERY"},
        201,
    )
    call(api, "POST", f"/production-orders/{order['number']}/release")
    return str(order["number"])


def _lots(api: TestClient, location: str) -> dict[str, str]:
    rows = call(api, "GET", f"/items/FLOUR/lots?location={location}")
    return {r["lot"]: r["quantity"] for r in rows}


def test_production_issues_and_consumes_the_named_component_lots(
    client: TestClient, db_url: str
) -> None:
    api = client
    batch = _bakery(api)
    before = _lots(api, "BAKERY")

    unknown = api.post(
        f"{API}/production-orders/{batch}/start", json={"lots": [{"sku": "FLOUR", "lot": "NOPE"}]}
    )
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["errors"][0]["field"] == "lots[0].lot"
    assert "NOPE" in unknown.json()["detail"]
    # Named without a quantity, F1 gives all 2 kg (FEFO would too; the next steps differ).
    call(
        api, "POST", f"/production-orders/{batch}/start", {"lots": [{"sku": "FLOUR", "lot": "F1"}]}
    )
    assert _lots(api, "BAKERY") == before | {"F1": "1"}
    assert _lots(api, "WIP") == {"F1": "2"}
    # Produce half, naming F1 (in WIP); then the rest naming F2, which WIP does not hold.
    half = {"quantity": 2, "lots": [{"sku": "FLOUR", "lot": "F1", "quantity": "1"}]}
    call(api, "POST", f"/production-orders/{batch}/produce", half)
    assert _lots(api, "WIP") == {"F1": "1"}
    missing = api.post(
        f"{API}/production-orders/{batch}/produce",
        json={"quantity": 2, "lots": [{"sku": "FLOUR", "lot": "F2"}]},
    )
    assert missing.status_code == 409, missing.text
    assert missing.json()["errors"][0]["field"] == "lots[0].quantity"
    assert "lot F2" in missing.json()["detail"]
    assert call(api, "GET", f"/production-orders/{batch}")["produced"] == "2"
    assert _lots(api, "WIP") == {"F1": "1"}


def test_named_lots_that_do_not_fit_are_refused_and_change_nothing(
    client: TestClient, db_url: str
) -> None:
    api = client
    batch = _bakery(api)
    before = _lots(api, "BAKERY")
    refusals: list[tuple[dict[str, Any], int, str, str]] = [
        ({"sku": "FLOUR", "lot": "F1", "quantity": "1.5"}, 422, "lots[0].quantity", "add up"),
        ({"sku": "SUGAR", "lot": "F1"}, 422, "lots[0].sku", "not a component"),
        ({"sku": "FLOUR", "lot": "F1", "quantity": "-1"}, 422, "lots[0].quantity", "zero"),
    ]
    for named, status, field, words in refusals:
        response = api.post(f"{API}/production-orders/{batch}/start", json={"lots": [named]})
        assert response.status_code == status, response.text
        assert response.json()["errors"][0]["field"].endswith(field), response.text
        assert words in response.json()["detail"]
    two = [
        {"sku": "FLOUR", "lot": "F1", "quantity": "1"},
        {"sku": "FLOUR", "lot": "F1", "quantity": "1"},
    ]
    twice = api.post(f"{API}/production-orders/{batch}/start", json={"lots": two})
    assert twice.status_code == 422
    assert "twice" in twice.json()["detail"]
    assert _lots(api, "BAKERY") == before
    assert call(api, "GET", f"/production-orders/{batch}")["status"] == "released"

    split = [
        {"sku": "FLOUR", "lot": "F2", "quantity": "1.5"},
        {"sku": "FLOUR", "lot": "F1", "quantity": "0.5"},
    ]
    call(api, "POST", f"/production-orders/{batch}/start", {"lots": split})
    assert _lots(api, "WIP") == {"F1": "0.5", "F2": "1.5"}


def test_an_expired_or_too_small_lot_is_refused_by_name(client: TestClient, db_url: str) -> None:
    api = client
    batch = _bakery(api)
    # Receive a lot that expired yesterday, dated when it was still good.
    yesterday = datetime.now(UTC) - timedelta(days=2)
    expired = {
        "sku": "FLOUR",
        "location": "BAKERY",
        "quantity": 9,
        "lot": "STALE",
        "expires_on": (yesterday + timedelta(days=1)).date().isoformat(),
        "occurred_at": yesterday.isoformat(),
    }
    call(api, "POST", "/stock/receipts", expired, 201)
    before = _lots(api, "BAKERY")
    stale = api.post(
        f"{API}/production-orders/{batch}/start", json={"lots": [{"sku": "FLOUR", "lot": "STALE"}]}
    )
    assert stale.status_code == 409, stale.text
    assert stale.json()["errors"][0]["field"] == "lots[0].lot"
    assert "expired" in stale.json()["detail"]
    assert _lots(api, "BAKERY") == before
    # F1 holds 3 kg: the order for 8 breads needs 4 kg, all of it named from F1.
    bigger = {"sku": "BREAD", "quantity": 8, "location": "BAKERY"}
    big = call(api, "POST", "/production-orders", bigger, 201)["number"]
    call(api, "POST", f"/production-orders/{big}/release")
    small = api.post(
        f"{API}/production-orders/{big}/start", json={"lots": [{"sku": "FLOUR", "lot": "F1"}]}
    )
    assert small.status_code == 409, small.text
    assert small.json()["errors"][0]["field"] == "lots[0].quantity"
    assert "Only 3 of FLOUR available at BAKERY, lot F1; 4 wanted" in small.json()["detail"]
    assert _lots(api, "BAKERY") == before


def test_the_cli_names_component_lots(client: TestClient, db_url: str) -> None:
    api = client
    batch = _bakery(api)
    runner = CliRunner()
    bad = runner.invoke(
        app, ["--database", db_url, "start-production", batch, "--component-lot", "FLOUR"]
    )
    assert bad.exit_code == 2
    assert "SKU=LOT" in bad.output
    too_small = runner.invoke(
        app, ["--database", db_url, "start-production", batch, "--component-lot", "FLOUR=F1:1"]
    )
    assert too_small.exit_code == 2
    assert "add up to 1" in too_small.output
    result = runner.invoke(
        app,
        [
            "--database",
            db_url,
            "start-production",
            batch,
            "--component-lot",
            "FLOUR=F2:1.25",
            "--component-lot",
            "FLOUR=F1:0.75",
        ],
    )
    assert result.exit_code == 0, result.output
    assert _lots(api, "WIP") == {"F1": "0.75", "F2": "1.25"}
    produced = runner.invoke(
        app,
        [
            "--database",
            db_url,
            "produce",
            batch,
            "4",
            "--component-lot",
            "FLOUR=F2:1.25",
            "--component-lot",
            "FLOUR=F1:0.75",
        ],
    )
    assert produced.exit_code == 0, produced.output
    assert _lots(api, "WIP") == {}
