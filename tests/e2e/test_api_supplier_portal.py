"""The supplier portal over HTTP, on both databases: a supplier user acknowledges or proposes,
the buyer accepts or rejects, ship notices carry lots, carrier and tracking and are received
against, drop-ship deliveries carry tracking; every change shows in the buyer's view and the
audit trail. And an attacker's view: a supplier user naming another supplier's orders,
proposals and ship notices finds nothing and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from conftest import OWNER, Templates, make_token
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.access import Role
from leanstock.entrypoints.api.app import create_app
from leanstock.services import purchasing

API = "/api/v1"
Headers = dict[str, str]


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


USERS: tuple[tuple[str, Role, dict[str, Any]], ...] = (
    ("acme", Role.SUPPLIER, {"supplier": "ACME"}),
    ("rival", Role.SUPPLIER, {"supplier": "RIVAL"}),
    ("floor", Role.WAREHOUSE, {}),
    ("buyer", Role.BUYER, {}),
)


@pytest.fixture
def db_url(db_kind: str, templates: Templates, request: pytest.FixtureRequest) -> Iterator[str]:
    """A copy of the template `build_world` wrote (once per session and worker) for the tests
    that ask for `world`."""
    with templates.for_test(request, db_kind, {"world": ("portal_world", build_world)}) as url:
        yield url


def build_world(engine: Engine) -> None:
    """WH; CUP and MILK (by lot); ACME and RIVAL sell both; one released order each (through
    the API, as an owner); a user for each supplier, a warehouse user and a buyer."""
    owner = {"Authorization": f"Bearer {make_token(engine, OWNER, Role.OWNER)}"}
    with TestClient(create_app(engine=engine), headers=owner) as api:
        ok(api.post(f"{API}/locations", json={"code": "WH", "name": "Warehouse"}), 201)
        ok(api.post(f"{API}/items", json={"sku": "CUP", "name": "Cup"}), 201)
        milk = {"sku": "MILK", "name": "Milk", "lot_tracked": True, "shelf_life_days": 10}
        ok(api.post(f"{API}/items", json=milk), 201)
        for code in ("ACME", "RIVAL"):
            ok(api.post(f"{API}/suppliers", json={"code": code, "name": code.title()}), 201)
            for sku in ("CUP", "MILK"):
                terms = {"sku": sku, "price": "2", "lead_time_days": 5}
                ok(api.post(f"{API}/suppliers/{code}/items", json=terms), 201)
            lines = [
                {"sku": "CUP", "quantity": 10, "location": "WH"},
                {"sku": "MILK", "quantity": 8, "location": "WH"},
            ]
            number = ok(
                api.post(f"{API}/purchase-orders", json={"supplier": code, "lines": lines}), 201
            )["number"]
            ok(api.post(f"{API}/purchase-orders/{number}/release"))
    for name, role, bind in USERS:
        make_token(engine, f"{name}@example.com", role, **bind)


@pytest.fixture
def world(client: TestClient, token_for: Callable[..., str], engine: Engine) -> dict[str, Any]:
    """The world `build_world` wrote, in this test's copy of the template: the owner's client,
    each supplier's released order, and a fresh token for each of its users."""
    orders = {}
    for code in ("ACME", "RIVAL"):
        (order,) = purchasing.list_purchase_orders(UnitOfWork(engine), supplier=code).items
        orders[code] = order["number"]
    heads = {
        name: {"Authorization": f"Bearer {token_for(f'{name}@example.com', role, **bind)}"}
        for name, role, bind in USERS
    }
    return {"api": client, "orders": orders, "h": heads}


def audit(api: TestClient, subject: str) -> list[tuple[str, str]]:
    rows = ok(api.get(f"{API}/audit", params={"object": subject, "limit": 100}))["items"]
    return [(r["action"], r["actor"]) for r in rows]


def test_a_proposal_the_buyer_accepts_becomes_the_acknowledgement(world: dict[str, Any]) -> None:
    api, h, po = world["api"], world["h"], world["orders"]["ACME"]
    later = str(date.today() + timedelta(days=9))
    proposal = ok(
        api.post(
            f"{API}/purchase-orders/{po}/proposals",
            json={"lines": [{"line": 1, "quantity": 8, "delivery_date": later}], "note": "short"},
            headers=h["acme"],
        ),
        201,
    )
    assert (proposal["status"], proposal["proposed_by"]) == ("pending", "acme@example.com")
    # The buyer's view shows it waiting; the inbox lists it.
    seen = ok(api.get(f"{API}/purchase-orders/{po}", headers=h["buyer"]))
    assert [p["id"] for p in seen["proposals"]] == [proposal["id"]]
    assert seen["lines"][0]["confirmed_quantity"] is None
    inbox = ok(api.get(f"{API}/purchase-proposals", params={"status": "pending"}))["items"]
    assert [(p["order"], p["supplier"]) for p in inbox] == [(po, "ACME")]
    # One proposal waits at a time.
    again = api.post(
        f"{API}/purchase-orders/{po}/proposals",
        json={"lines": [{"line": 2, "quantity": 1}]},
        headers=h["acme"],
    )
    assert again.status_code == 422
    assert "waiting" in again.json()["detail"]

    accepted = ok(
        api.post(
            f"{API}/purchase-orders/{po}/proposals/{proposal['id']}/accept", headers=h["buyer"]
        )
    )
    assert (accepted["status"], accepted["decided_by"]) == ("accepted", "buyer@example.com")
    line = ok(api.get(f"{API}/purchase-orders/{po}", headers=h["acme"]))["lines"][0]
    assert (line["confirmed_quantity"], line["confirmed_date"]) == ("8", later)
    assert (line["first_confirmed_quantity"], line["first_confirmed_date"]) == ("8", later)
    # Timed when the supplier answered, not when the buyer did: its acknowledgement speed.
    assert line["acknowledged_at"][:19] == proposal["proposed_at"][:19]
    twice = api.post(
        f"{API}/purchase-orders/{po}/proposals/{proposal['id']}/reject",
        json={"reason": "no"},
        headers=h["buyer"],
    )
    assert twice.status_code == 409
    trail = audit(api, po)
    assert ("propose", "acme@example.com") in trail
    assert ("decide_proposal", "buyer@example.com") in trail
    assert ("acknowledge", "buyer@example.com") in trail


def test_a_rejected_proposal_leaves_the_order_as_it_was(world: dict[str, Any]) -> None:
    api, h, po = world["api"], world["h"], world["orders"]["ACME"]
    before = ok(api.get(f"{API}/purchase-orders/{po}"))["lines"]
    body = {"lines": [{"line": 2, "delivery_date": str(date.today() + timedelta(days=30))}]}
    proposal = ok(
        api.post(f"{API}/purchase-orders/{po}/proposals", json=body, headers=h["acme"]), 201
    )
    url = f"{API}/purchase-orders/{po}/proposals/{proposal['id']}/reject"
    blank = api.post(url, json={"reason": "  "}, headers=h["buyer"])
    assert blank.status_code == 422
    rejected = ok(api.post(url, json={"reason": "We need it this month"}, headers=h["buyer"]))
    assert (rejected["status"], rejected["reason"]) == ("rejected", "We need it this month")
    after = ok(api.get(f"{API}/purchase-orders/{po}", headers=h["acme"]))
    assert after["lines"] == before
    assert after["proposals"][0]["reason"] == "We need it this month"
    # The supplier then acknowledges as ordered; a new proposal is possible again.
    ok(
        api.post(
            f"{API}/purchase-orders/{po}/acknowledgement",
            json={"lines": [{"line": 2}]},
            headers=h["acme"],
        )
    )


def test_an_acknowledgement_withdraws_the_suppliers_waiting_proposal(world: dict[str, Any]) -> None:
    api, h, po = world["api"], world["h"], world["orders"]["ACME"]
    body = {"lines": [{"line": 1, "quantity": 5}]}
    proposal = ok(
        api.post(f"{API}/purchase-orders/{po}/proposals", json=body, headers=h["acme"]), 201
    )
    ok(
        api.post(
            f"{API}/purchase-orders/{po}/acknowledgement",
            json={"lines": [{"line": 1, "quantity": 10}]},
            headers=h["acme"],
        )
    )
    (shown,) = ok(api.get(f"{API}/purchase-orders/{po}"))["proposals"]
    assert (shown["id"], shown["status"]) == (proposal["id"], "withdrawn")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lines": [{"line": 9, "quantity": 1}]}, "line"),
        ({"lines": [{"line": 1}]}, "lines"),
        ({"lines": [{"line": 1, "quantity": 1}, {"line": 1, "quantity": 2}]}, "lines"),
        ({"lines": [{"line": 1, "delivery_date": "2001-01-01"}]}, "delivery_date"),
        ({"lines": [{"line": 1, "quantity": -1}]}, None),
        ({"lines": []}, None),
        ({"lines": [{"line": 1, "quantity": 1}], "colour": "red"}, None),
    ],
)
def test_a_bad_proposal_is_refused_and_changes_nothing(
    world: dict[str, Any], body: dict[str, Any], field: str | None
) -> None:
    api, h, po = world["api"], world["h"], world["orders"]["ACME"]
    response = api.post(f"{API}/purchase-orders/{po}/proposals", json=body, headers=h["acme"])
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if field is not None:
        assert response.json()["errors"][0]["field"] == field
    assert ok(api.get(f"{API}/purchase-orders/{po}"))["proposals"] == []


def test_a_ship_notice_carries_lots_and_the_warehouse_receives_against_it(
    world: dict[str, Any],
) -> None:
    api, h, po = world["api"], world["h"], world["orders"]["ACME"]
    expiry = str(date.today() + timedelta(days=8))
    notice = {
        "lines": [
            {"line": 1, "quantity": 10},
            {"line": 2, "quantity": 5, "lot": "L-1", "expires_on": expiry},
            {"line": 2, "quantity": 3, "lot": "L-2", "expires_on": expiry},
        ],
        "shipped_on": str(date.today()),
        "expected_date": str(date.today() + timedelta(days=2)),
        "carrier": "DHL",
        "tracking": "JD0001",
    }
    no_lot = {"lines": [{"line": 2, "quantity": 8}]}
    refused = api.post(f"{API}/purchase-orders/{po}/ship-notice", json=no_lot, headers=h["acme"])
    assert refused.status_code == 422
    assert "lot" in refused.json()["detail"]
    shipped = ok(
        api.post(f"{API}/purchase-orders/{po}/ship-notice", json=notice, headers=h["acme"])
    )
    assert shipped["status"] == "shipped"
    (asn,) = shipped["ship_notices"]
    assert (asn["carrier"], asn["tracking"], asn["status"]) == ("DHL", "JD0001", "open")
    assert [(ln["lot"], ln["quantity"]) for ln in asn["lines"]] == [
        (None, "10"),
        ("L-1", "5"),
        ("L-2", "3"),
    ]
    assert [ln["shipped_quantity"] for ln in shipped["lines"]] == ["10", "8"]
    # Shipping more than is due (past the tolerance) is refused.
    over = api.post(
        f"{API}/purchase-orders/{po}/ship-notice",
        json={"lines": [{"line": 1, "quantity": 5}]},
        headers=h["acme"],
    )
    assert over.status_code == 409

    url = f"{API}/purchase-orders/{po}/ship-notices/{asn['id']}/receipt"
    assert api.post(url, json={}, headers=h["acme"]).status_code == 403  # the dock's work
    received = ok(
        api.post(url, json={"rejected": [{"row": 3, "quantity": 1}]}, headers=h["floor"]), 201
    )
    assert received["status"] == "partially_received"  # 1 of line 2 was refused
    assert [(ln["received"], ln["rejected"]) for ln in received["lines"]] == [
        ("10", "0"),
        ("7", "1"),
    ]
    assert received["ship_notices"][0]["status"] == "received"
    assert {d["ship_notice"] for d in received["deliveries"]} == {asn["id"]}
    assert {d["tracking"] for d in received["deliveries"]} == {"JD0001"}
    lots = ok(api.get(f"{API}/items/MILK/lots", params={"location": "WH"}))
    assert {(lot["lot"], lot["quantity"], lot["expires_on"]) for lot in lots} == {
        ("L-1", "5", expiry),
        ("L-2", "2", expiry),
    }
    assert api.post(url, json={}, headers=h["floor"]).status_code == 409  # received once
    assert ("ship_notice", "acme@example.com") in audit(api, po)


def test_a_supplier_confirms_a_drop_ship_delivery_with_carrier_and_tracking(
    client: TestClient, token_for: Callable[..., str]
) -> None:
    api = client
    ok(api.post(f"{API}/locations", json={"code": "WH", "name": "Warehouse"}), 201)
    ok(api.post(f"{API}/items", json={"sku": "TV", "name": "TV", "policy": "drop_ship"}), 201)
    ok(api.post(f"{API}/suppliers", json={"code": "ELEKTRO", "name": "Elektro"}), 201)
    terms = {"sku": "TV", "price": "300", "lead_time_days": 4}
    ok(api.post(f"{API}/suppliers/ELEKTRO/items", json=terms), 201)
    sale = {
        "customer": "Jo",
        "location": "WH",
        "lines": [{"sku": "TV", "quantity": 2}],
        "confirm": True,
    }
    order = ok(api.post(f"{API}/sales-orders", json=sale), 201)
    po = order["lines"][0]["pegs"][0]["supply"].split("/")[0]
    ok(api.post(f"{API}/purchase-orders/{po}/release"))
    elektro = {
        "Authorization": f"Bearer {token_for('e@example.com', Role.SUPPLIER, supplier='ELEKTRO')}"
    }
    url = f"{API}/purchase-orders/{po}/drop-ship-deliveries"
    body = {"lines": [{"line": 1, "quantity": 2}], "carrier": "UPS", "tracking": " "}
    blank = api.post(url, json=body, headers=elektro)
    assert blank.status_code == 422
    assert "tracking" in blank.json()["detail"]
    body["tracking"] = "1Z999"
    done = ok(api.post(url, json=body, headers=elektro), 201)
    assert [(d["carrier"], d["tracking"], d["quantity"]) for d in done["deliveries"]] == [
        ("UPS", "1Z999", "2")
    ]
    assert done["lines"][0]["pegged_to"] == []  # a supplier does not read our customers' orders
    assert ok(api.get(f"{API}/sales-orders/{order['number']}"))["status"] == "shipped"
    assert ("receive", "e@example.com") in audit(api, po)


def test_another_suppliers_orders_proposals_and_notices_answer_as_missing_ones(
    world: dict[str, Any],
) -> None:
    """RIVAL's user, knowing ACME's order number and the ids of its proposal and ship notice,
    reads nothing of them and changes nothing."""
    api, h, orders = world["api"], world["h"], world["orders"]
    acme, rival = orders["ACME"], orders["RIVAL"]
    body = {"lines": [{"line": 1, "quantity": 9}]}
    proposal = ok(
        api.post(f"{API}/purchase-orders/{acme}/proposals", json=body, headers=h["acme"]), 201
    )
    shipped = ok(
        api.post(
            f"{API}/purchase-orders/{acme}/ship-notice",
            json={"lines": [{"line": 1, "quantity": 1}], "carrier": "DHL", "tracking": "SECRET-77"},
            headers=h["buyer"],
        )
    )
    notice = shipped["ship_notices"][0]["id"]
    before = ok(api.get(f"{API}/purchase-orders/{acme}"))
    missing = f"No purchase order {acme} exists."
    attempts = [
        ("GET", f"/purchase-orders/{acme}", None),
        ("POST", f"/purchase-orders/{acme}/proposals", body),
        ("POST", f"/purchase-orders/{acme}/acknowledgement", {"lines": [{"line": 1}]}),
        ("POST", f"/purchase-orders/{acme}/ship-notice", {"lines": [{"line": 1, "quantity": 1}]}),
        (
            "POST",
            f"/purchase-orders/{acme}/drop-ship-deliveries",
            {"lines": [{"line": 1, "quantity": 1}], "carrier": "X", "tracking": "Y"},
        ),
    ]
    for method, path, payload in attempts:
        response = api.request(method, f"{API}{path}", json=payload, headers=h["rival"])
        assert (response.status_code, response.json()["detail"]) == (404, missing), path
    # Ids of ACME's proposal and notice under RIVAL's own order: not found either.
    for path in (
        f"/purchase-orders/{rival}/proposals/{proposal['id']}/accept",
        f"/purchase-orders/{rival}/ship-notices/{notice}/receipt",
    ):
        assert api.post(f"{API}{path}", json={}).status_code == 404  # even for the owner
        assert api.post(f"{API}{path}", json={}, headers=h["rival"]).status_code == 403
    assert (
        api.post(
            f"{API}/purchase-orders/{rival}/proposals/{proposal['id']}/accept", headers=h["buyer"]
        ).json()["detail"]
        == f"No proposal {proposal['id']} exists."
    )
    # Lists: only its own.
    listed = ok(api.get(f"{API}/purchase-proposals", headers=h["rival"]))
    assert listed["items"] == []
    assert listed["total"] == 0
    for path in ("/purchase-orders", "/purchase-proposals", f"/purchase-orders/{rival}"):
        text = api.get(f"{API}{path}", headers=h["rival"]).text
        assert acme not in text, path
        assert "SECRET-77" not in text, path
    assert api.get(f"{API}/suppliers/ACME/scorecard", headers=h["rival"]).status_code == 404
    assert api.get(f"{API}/audit", headers=h["rival"]).status_code == 403
    assert ok(api.get(f"{API}/purchase-orders/{acme}")) == before


def test_a_warehouse_user_of_another_location_lists_no_proposal_of_orders_elsewhere(
    world: dict[str, Any], token_for: Callable[..., str]
) -> None:
    api, h, acme = world["api"], world["h"], world["orders"]["ACME"]
    ok(api.post(f"{API}/locations", json={"code": "STORE", "name": "Store"}), 201)
    body = {"lines": [{"line": 1, "quantity": 9}]}
    ok(api.post(f"{API}/purchase-orders/{acme}/proposals", json=body, headers=h["acme"]), 201)
    there = token_for("store@example.com", Role.WAREHOUSE, locations=["STORE"])
    listed = api.get(f"{API}/purchase-proposals", headers={"Authorization": f"Bearer {there}"})
    assert ok(listed)["total"] == 0
    assert acme not in listed.text
    assert ok(api.get(f"{API}/purchase-proposals", headers=h["floor"]))["total"] == 1
