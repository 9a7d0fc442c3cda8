"""Batch posting over HTTP: many stock documents in one call, each all-or-nothing on its own."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from leanstock.services.stock.batch import MAX_DOCUMENTS

API = "/api/v1"
BATCH = f"{API}/stock/operations:batch"


@pytest.fixture
def api(client: TestClient) -> TestClient:
    locations: list[dict[str, object]] = [
        {"code": "WH", "name": "Warehouse"},
        {"code": "STORE", "name": "Store", "kind": "store"},
    ]
    items: list[dict[str, object]] = [
        {"sku": "CUP", "name": "Paper cup"},
        {"sku": "LID", "name": "Lid"},
        {"sku": "MILK", "name": "Milk", "unit": "l", "lot_tracked": True, "shelf_life_days": 9},
    ]
    for body in locations:
        assert client.post(f"{API}/locations", json=body).status_code == 201
    for body in items:
        assert client.post(f"{API}/items", json=body).status_code == 201
    receipt = {"sku": "CUP", "location": "WH", "quantity": "10"}
    assert client.post(f"{API}/stock/receipts", json=receipt).status_code == 201
    return client


def on_hand(api: TestClient, sku: str, location: str) -> str:
    rows = api.get(f"{API}/stock", params={"sku": sku, "location": location}).json()["items"]
    return str(rows[0]["on_hand"]) if rows else "0"


def moves(api: TestClient, sku: str) -> int:
    return int(api.get(f"{API}/items/{sku}/moves").json()["total"])


MIXED: list[dict[str, Any]] = [
    # 0: a delivery of two items
    {
        "kind": "receipt",
        "location": "WH",
        "supplier": None,
        "lines": [{"sku": "CUP", "quantity": 5}, {"sku": "LID", "quantity": 20}],
    },
    # 1: more than there is: refused, and its other line (LID) is not shipped either
    {
        "kind": "shipment",
        "location": "WH",
        "lines": [{"sku": "LID", "quantity": 1}, {"sku": "CUP", "quantity": 99}],
    },
    # 2: sees what document 0 received
    {"kind": "transfer", "source": "WH", "target": "STORE", "sku": "CUP", "quantity": 12},
    # 3: an unknown item
    {"kind": "scrap", "location": "WH", "sku": "NOPE", "quantity": 1, "reason": "damage"},
    # 4: malformed: no quantity field of a count, and a field no route knows
    {"kind": "count", "location": "STORE", "sku": "CUP", "colour": "red"},
    # 5: a count that finds one cup missing
    {"kind": "count", "location": "STORE", "sku": "CUP", "counted": 11},
    # 6: a kind that does not exist
    {"kind": "teleport", "location": "WH"},
    # 7: a scrap that passes
    {"kind": "scrap", "location": "WH", "sku": "LID", "quantity": 2, "reason": "damage"},
    # 8: a lot-tracked item without its lot
    {"kind": "receipt", "location": "WH", "sku": "MILK", "quantity": 3},
]


def test_a_batch_posts_each_document_on_its_own_and_answers_each_in_order(
    api: TestClient,
) -> None:
    response = api.post(BATCH, json={"documents": MIXED})

    assert response.status_code == 200, response.text
    body = response.json()
    results = body["results"]
    assert [r["index"] for r in results] == list(range(len(MIXED)))
    assert [r["status"] for r in results] == [201, 409, 201, 422, 422, 201, 422, 201, 422]
    assert (body["posted"], body["refused"]) == (4, 5)
    assert results[0]["operation"]["kind"] == "receipt"
    assert len(results[0]["operation"]["moves"]) == 2
    assert results[1]["problem"]["title"] == "Not enough stock"
    assert "lines[1].quantity" in [e["field"] for e in results[1]["problem"]["errors"]]
    assert results[3]["problem"]["errors"][0]["field"] == "sku"
    fields = {e["field"] for e in results[4]["problem"]["errors"]}
    assert {"counted", "colour"} <= fields
    assert results[5]["operation"]["moves"] == [
        {"sku": "CUP", "source": "STORE", "target": "adjustment", "quantity": "1", "lot": None}
    ]
    assert results[6]["problem"]["errors"][0]["field"] == "kind"
    assert results[8]["problem"]["errors"][0]["field"] == "lot"
    assert "operation" not in results[1]
    assert "problem" not in results[0]

    # What was kept is exactly what the posted documents moved; the refused moved nothing.
    assert on_hand(api, "CUP", "WH") == "3"
    assert on_hand(api, "CUP", "STORE") == "11"
    assert on_hand(api, "LID", "WH") == "18"
    assert moves(api, "LID") == 2
    assert on_hand(api, "MILK", "WH") == "0"
    # The virtual locations balance each item's ledger (they are written last in a batch).
    stock = api.get(f"{API}/stock", params={"sku": "CUP", "limit": 100}).json()["items"]
    assert {r["location"] for r in stock} >= {"WH", "STORE"}


def test_a_retried_batch_with_the_same_key_is_answered_again_and_posts_nothing_twice(
    api: TestClient,
) -> None:
    documents = [
        {"kind": "shipment", "location": "WH", "sku": "CUP", "quantity": 4},
        {"kind": "shipment", "location": "WH", "sku": "CUP", "quantity": 40},
    ]
    key = {"Idempotency-Key": "till-7-2026-11-30"}
    first = api.post(BATCH, json={"documents": documents}, headers=key)
    second = api.post(BATCH, json={"documents": documents}, headers=key)

    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert [r["status"] for r in first.json()["results"]] == [201, 409]
    assert on_hand(api, "CUP", "WH") == "6"

    other = api.post(BATCH, json={"documents": documents[:1]}, headers=key)
    assert other.status_code == 422
    assert on_hand(api, "CUP", "WH") == "6"


def test_a_batch_holds_at_most_the_limit_and_at_least_one_document(api: TestClient) -> None:
    one = {"kind": "receipt", "location": "WH", "sku": "LID", "quantity": 1}
    too_many = api.post(BATCH, json={"documents": [one] * (MAX_DOCUMENTS + 1)})
    empty = api.post(BATCH, json={"documents": []})

    for response in (too_many, empty):
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == "documents"
    assert on_hand(api, "LID", "WH") == "0"

    full = api.post(BATCH, json={"documents": [one] * MAX_DOCUMENTS})
    assert full.status_code == 200
    assert full.json()["posted"] == MAX_DOCUMENTS
    assert on_hand(api, "LID", "WH") == str(MAX_DOCUMENTS)


def test_a_warehouse_user_posts_only_at_their_locations(api: TestClient, token_for: Any) -> None:
    from leanstock.domain.access import Role

    token = token_for("picker@example.com", Role.WAREHOUSE, locations=["STORE"])
    documents = [
        {"kind": "receipt", "location": "STORE", "sku": "LID", "quantity": 3},
        {"kind": "shipment", "location": "WH", "sku": "CUP", "quantity": 1},
        {"kind": "transfer", "source": "STORE", "target": "WH", "sku": "LID", "quantity": 1},
    ]
    response = api.post(
        BATCH, json={"documents": documents}, headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 422, 422]
    assert results[2]["problem"]["errors"][0]["field"] == "target"
    assert on_hand(api, "LID", "STORE") == "3"
    assert on_hand(api, "CUP", "WH") == "10"
