"""Quarantine and expiry through the HTTP API (SQLite and PostgreSQL): quality rejects
released, returned to the supplier against their order, or scrapped; the expiry sweep."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from conftest import OWNER, Templates, make_token
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.access import Role
from leanstock.entrypoints.api.app import create_app

API = "/api/v1"
TODAY = date.today()


def call(api: TestClient, method: str, path: str, body: Any = None, status: int = 200) -> Any:
    response = api.request(method, f"{API}{path}", json=body)
    assert response.status_code == status, response.text
    return response.json()


def level(api: TestClient, sku: str, location: str) -> tuple[str, str]:
    rows = call(api, "GET", f"/stock?sku={sku}&location={location}")["items"]
    return (str(rows[0]["on_hand"]), str(rows[0]["reserved"])) if rows else ("0", "0")


@pytest.fixture
def db_url(db_kind: str, templates: Templates, request: pytest.FixtureRequest) -> Iterator[str]:
    """A copy of the template `deliver_milk` wrote (once per session and worker) for the
    tests that ask for `dairy`."""
    with templates.for_test(request, db_kind, {"dairy": ("quarantine_dairy", deliver_milk)}) as url:
        yield url


def deliver_milk(engine: Engine) -> None:
    """Milk from a farm: 6 delivered on PO, 4 accepted, 2 rejected to quarantine (lot L1),
    through the API as an owner."""
    owner = {"Authorization": f"Bearer {make_token(engine, OWNER, Role.OWNER)}"}
    with TestClient(create_app(engine=engine), headers=owner) as api:
        call(api, "POST", "/locations", {"code": "WH", "name": "Warehouse"}, 201)
        quarantine = {"code": "QUARANTINE", "name": "Q", "kind": "quarantine"}
        call(api, "POST", "/locations", quarantine, 201)
        item = {"sku": "MILK", "name": "Milk", "lot_tracked": True, "shelf_life_days": 10}
        call(api, "POST", "/items", item, 201)
        call(api, "POST", "/suppliers", {"code": "FARM", "name": "Farm"}, 201)
        line = {"sku": "MILK", "quantity": 6, "location": "WH", "price": 1}
        po = call(api, "POST", "/purchase-orders", {"supplier": "FARM", "lines": [line]}, 201)
        number = po["number"]
        call(api, "POST", f"/purchase-orders/{number}/release")
        receipt = {"lines": [{"line": 1, "quantity": 4, "rejected": 2, "lot": "L1"}]}
        call(api, "POST", f"/purchase-orders/{number}/receipts", receipt, 201)


@pytest.fixture
def dairy(client: TestClient) -> tuple[TestClient, str]:
    """The farm's milk `deliver_milk` wrote, in this test's copy of the template: the owner's
    client and the purchase order's number."""
    (po,) = call(client, "GET", "/purchase-orders?supplier=FARM")["items"]
    return client, po["number"]


def test_a_quarantine_release_makes_goods_usable_and_fills_a_backorder(
    dairy: tuple[TestClient, str],
) -> None:
    api, _ = dairy
    order = {"customer": "Cafe", "location": "WH", "confirm": True}
    order["lines"] = [{"sku": "MILK", "quantity": 5}]
    number = call(api, "POST", "/sales-orders", order, 201)["number"]
    assert level(api, "MILK", "WH") == ("4", "4")
    release = {"sku": "MILK", "quantity": 1, "location": "WH", "lot": "L1", "note": "retested"}
    moved = call(api, "POST", "/stock/quarantine/releases", release, 201)
    assert moved["kind"] == "release"
    assert [(m["source"], m["target"], m["lot"]) for m in moved["moves"]] == [
        ("QUARANTINE", "WH", "L1")
    ]
    assert level(api, "MILK", "WH") == ("5", "5")
    assert level(api, "MILK", "QUARANTINE") == ("1", "0")
    assert call(api, "POST", f"/sales-orders/{number}/shipments", {}, 201)["status"] == "shipped"


def test_quarantined_goods_go_back_to_the_supplier_against_their_order(
    dairy: tuple[TestClient, str], engine: Engine
) -> None:
    api, po = dairy
    back = {"sku": "MILK", "quantity": 2, "purchase_order": po, "note": "sour"}
    moved = call(api, "POST", "/stock/quarantine/returns", back, 201)
    assert [(m["source"], m["target"]) for m in moved["moves"]] == [("QUARANTINE", "supplier")]
    assert level(api, "MILK", "QUARANTINE") == ("0", "0")
    uow = UnitOfWork(engine)
    with uow:
        events = uow.outbox.events(po)
    returned = [e for e in events if e["event"] == "purchase_order.goods_returned"]
    assert [(e["payload"]["sku"], e["payload"]["quantity"]) for e in returned] == [("MILK", "2")]


def test_quarantined_goods_are_scrapped_with_a_reason(dairy: tuple[TestClient, str]) -> None:
    api, _ = dairy
    body = {"sku": "MILK", "quantity": 2, "reason": "quality"}
    moved = call(api, "POST", "/stock/quarantine/scraps", body, 201)
    assert [(m["source"], m["target"]) for m in moved["moves"]] == [("QUARANTINE", "scrap")]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("releases", {"sku": "MILK", "quantity": 3, "location": "WH"}, None),
        ("releases", {"sku": "MILK", "quantity": 1, "location": "QUARANTINE"}, "location"),
        ("releases", {"sku": "MILK", "quantity": 1, "location": "WH", "quarantine": "WH"}, None),
        ("releases", {"sku": "MILK", "quantity": 1, "location": "WH", "lot": "NOPE"}, None),
        ("returns", {"sku": "MILK", "quantity": 1, "purchase_order": "PO-999999"}, None),
        ("scraps", {"sku": "MILK", "quantity": -1, "reason": "quality"}, "quantity"),
    ],
)
def test_a_bad_quarantine_request_names_the_problem_and_changes_nothing(
    dairy: tuple[TestClient, str], path: str, body: dict[str, Any], field: str | None
) -> None:
    api, _ = dairy
    response = api.post(f"{API}/stock/quarantine/{path}", json=body)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["detail"]
    assert level(api, "MILK", "QUARANTINE") == ("2", "0")
    assert level(api, "MILK", "WH") == ("4", "0")


def test_the_expiry_sweep_scraps_expired_lots_only(client: TestClient) -> None:
    api = client
    call(api, "POST", "/locations", {"code": "WH", "name": "Warehouse"}, 201)
    call(api, "POST", "/items", {"sku": "YOG", "name": "Yoghurt", "lot_tracked": True}, 201)
    old = {"sku": "YOG", "location": "WH", "quantity": 3, "lot": "OLD"}
    new = {"sku": "YOG", "location": "WH", "quantity": 5, "lot": "NEW"}
    call(api, "POST", "/stock/receipts", old | {"expires_on": str(TODAY - timedelta(2))}, 201)
    call(api, "POST", "/stock/receipts", new | {"expires_on": str(TODAY + timedelta(9))}, 201)
    before = str(TODAY - timedelta(days=3))
    assert call(api, "POST", "/stock/expiry", {"today": before})["operation"]["moves"] == []
    future = api.post(f"{API}/stock/expiry", json={"today": str(TODAY + timedelta(days=30))})
    assert future.status_code == 422
    assert "future" in future.json()["detail"]
    sweep = call(api, "POST", "/stock/expiry", {})
    moves = [(m["lot"], m["target"], m["quantity"]) for m in sweep["operation"]["moves"]]
    assert moves == [("OLD", "scrap", "3")]
    assert sweep["operation"]["kind"] == "scrap"
    assert level(api, "YOG", "WH") == ("5", "0")
    again = call(api, "POST", "/stock/expiry", {})
    assert again["operation"]["moves"] == []
