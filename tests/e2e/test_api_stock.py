"""The HTTP API as a client uses it: stock operations, errors as problems, idempotency."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
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
    """A copy of the template `open_the_cafe` wrote (once per session and worker) for the
    tests that ask for `api`."""
    with templates.for_test(request, db_kind, {"api": ("stock_cafe", open_the_cafe)}) as url:
        yield url


def open_the_cafe(engine: Engine) -> None:
    """WH and STORE; CUP, BEANS and MILK (by lot); 10 CUP received at WH: made through the
    API, as an owner."""
    owner = {"Authorization": f"Bearer {make_token(engine, OWNER, Role.OWNER)}"}
    with TestClient(create_app(engine=engine), headers=owner) as client:
        stock_up(client)


@pytest.fixture
def api(client: TestClient) -> TestClient:
    """The owner's client on this test's copy of the café `open_the_cafe` made."""
    return client


def stock_up(client: TestClient) -> None:
    locations: list[dict[str, object]] = [
        {"code": "WH", "name": "Warehouse"},
        {"code": "STORE", "name": "Store", "kind": "store"},
    ]
    items: list[dict[str, object]] = [
        {"sku": "CUP", "name": "Paper cup", "category": "packaging"},
        {"sku": "BEANS", "name": "Coffee beans", "unit": "kg", "category": "coffee"},
        {"sku": "MILK", "name": "Milk", "unit": "l", "lot_tracked": True, "shelf_life_days": 9},
    ]
    for body in locations:
        assert client.post(f"{API}/locations", json=body).status_code == 201
    for body in items:
        assert client.post(f"{API}/items", json=body).status_code == 201
    receipt = {"sku": "CUP", "location": "WH", "quantity": "10"}
    assert client.post(f"{API}/stock/receipts", json=receipt).status_code == 201


def problem(response: Any, status: int, field: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert field in [e["field"] for e in body.get("errors", [])], body
    return body


def on_hand(api: TestClient, sku: str, location: str) -> str:
    rows = api.get(f"{API}/stock", params={"sku": sku, "location": location}).json()["items"]
    return str(rows[0]["on_hand"]) if rows else "0"


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("/stock/shipments", {"sku": "NOPE", "location": "WH", "quantity": 1}, 422, "sku"),
        ("/stock/shipments", {"sku": "CUP", "location": "MARS", "quantity": 1}, 422, "location"),
        ("/stock/shipments", {"sku": "CUP", "location": "WH", "quantity": 0}, 422, "quantity"),
        ("/stock/shipments", {"sku": "CUP", "location": "WH", "quantity": -2}, 422, "quantity"),
        ("/stock/shipments", {"sku": "CUP", "location": "WH", "quantity": 11}, 409, "quantity"),
        ("/stock/shipments", {"sku": "CUP", "location": "WH", "quantity": "x"}, 422, "quantity"),
        ("/stock/shipments", {"sku": "CUP", "location": "WH"}, 422, "quantity"),
        (
            "/stock/receipts",
            {"sku": "CUP", "location": "WH", "quantity": 1, "unit": "kg"},
            422,
            "unit",
        ),
        (
            "/stock/receipts",
            {"sku": "CUP", "location": "WH", "quantity": 1, "colour": 1},
            422,
            "colour",
        ),
        ("/stock/receipts", {"sku": "MILK", "location": "WH", "quantity": 1}, 422, "lot"),
        (
            "/stock/transfers",
            {"sku": "CUP", "source": "WH", "target": "WH", "quantity": 1},
            422,
            "target",
        ),
        (
            "/stock/scraps",
            {"sku": "CUP", "location": "WH", "quantity": 1, "reason": "bored"},
            422,
            "reason",
        ),
        (
            "/reservations",
            {"sku": "CUP", "location": "WH", "quantity": 11, "reference": "SO"},
            409,
            "quantity",
        ),
        ("/items", {"sku": "CUP", "name": "Again"}, 409, "sku"),
        ("/items", {"sku": "bad sku!", "name": "Spaces"}, 422, "sku"),
        ("/locations", {"code": "X", "name": "Virtual", "kind": "customer"}, 422, "kind"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field_and_changes_nothing(
    api: TestClient, path: str, body: dict[str, Any], status: int, field: str
) -> None:
    problem(api.post(API + path, json=body), status, field)
    assert on_hand(api, "CUP", "WH") == "10"
    assert api.get(f"{API}/items/CUP/moves").json()["total"] == 1


def test_malformed_json_is_a_problem_not_a_crash(api: TestClient) -> None:
    response = api.post(
        f"{API}/stock/shipments",
        content=b'{"sku": "CUP",',
        headers={"content-type": "application/json"},
    )
    assert "Malformed JSON" in problem(response, 422, "body")["detail"]


def test_an_expired_lot_cannot_be_shipped(api: TestClient) -> None:
    receipt = {
        "sku": "MILK",
        "location": "WH",
        "quantity": 5,
        "lot": "OLD",
        "expires_on": "2020-01-01",
    }
    assert api.post(f"{API}/stock/receipts", json=receipt).status_code == 201
    response = api.post(
        f"{API}/stock/shipments",
        json={"sku": "MILK", "location": "WH", "quantity": 1, "lot": "OLD"},
    )
    assert "expired" in problem(response, 409, "lot")["detail"]
    rows = api.get(f"{API}/stock", params={"sku": "MILK"}).json()["items"]
    assert (rows[0]["on_hand"], rows[0]["expired"], rows[0]["available"]) == ("5", "5", "0")


def test_a_missing_resource_in_the_url_is_a_404(api: TestClient) -> None:
    problem(api.get(f"{API}/items/NOPE"), 404, "sku")
    assert api.get(f"{API}/nowhere").status_code == 404


def test_items_are_listed_with_filters_and_pages(api: TestClient) -> None:
    page = api.get(f"{API}/items", params={"limit": 2}).json()
    assert (page["total"], [i["sku"] for i in page["items"]]) == (3, ["BEANS", "CUP"])
    assert [
        i["sku"] for i in api.get(f"{API}/items", params={"limit": 2, "offset": 2}).json()["items"]
    ] == ["MILK"]
    assert [
        i["sku"] for i in api.get(f"{API}/items", params={"category": "coffee"}).json()["items"]
    ] == ["BEANS"]
    assert [i["sku"] for i in api.get(f"{API}/items", params={"q": "cup"}).json()["items"]] == [
        "CUP"
    ]
    assert api.get(f"{API}/items", params={"limit": 0}).status_code == 422


def test_stock_as_of_a_moment_is_a_page_like_every_list(api: TestClient) -> None:
    receipt = {"sku": "BEANS", "location": "STORE", "quantity": "4"}
    assert api.post(f"{API}/stock/receipts", json=receipt).status_code == 201
    now = datetime.now(UTC).isoformat()
    first = api.get(f"{API}/stock", params={"as_of": now, "limit": 1}).json()
    assert (first["total"], first["limit"], first["offset"]) == (2, 1, 0)
    rest = api.get(f"{API}/stock", params={"as_of": now, "limit": 1, "offset": 1}).json()
    rows = [(r["sku"], r["location"], r["on_hand"]) for r in first["items"] + rest["items"]]
    assert sorted(rows) == [("BEANS", "STORE", "4"), ("CUP", "WH", "10")]
    before = api.get(f"{API}/stock", params={"as_of": "2000-01-01T00:00:00Z"}).json()
    assert (before["items"], before["total"]) == ([], 0)
    refused = api.get(f"{API}/stock", params={"as_of": now, "limit": 0})
    assert refused.status_code == 422


def test_items_and_suppliers_can_be_updated(api: TestClient) -> None:
    changed = api.patch(f"{API}/items/CUP", json={"name": "Paper cup 8oz", "unit_cost": "0.04"})
    assert changed.json()["name"] == "Paper cup 8oz"
    assert api.get(f"{API}/items/CUP").json()["unit_cost"] == "0.04"
    problem(api.patch(f"{API}/items/CUP", json={"unit": "box"}), 422, "unit")
    assert (
        api.post(f"{API}/suppliers", json={"code": "ROAST", "name": "Roastery"}).status_code == 201
    )
    terms = {"sku": "BEANS", "price": "12.50", "lead_time_days": 4, "moq": 5, "pack_size": "2.5"}
    assert api.post(f"{API}/suppliers/ROAST/items", json=terms).status_code == 201
    assert (
        api.patch(f"{API}/suppliers/ROAST/items/BEANS", json={"lead_time_days": 6}).json()[
            "lead_time_days"
        ]
        == 6
    )
    (offer,) = api.get(f"{API}/items/BEANS/suppliers").json()["items"]
    assert (offer["supplier"], offer["price"], offer["pack_size"]) == ("ROAST", "12.5", "2.5")
    problem(api.post(f"{API}/suppliers/ROAST/items", json={**terms, "moq": 0}), 422, "moq")
    breaks = [{"min_quantity": 50, "price": "11"}, {"min_quantity": 20, "price": "12"}]
    assert api.post(f"{API}/suppliers", json={"code": "BULK", "name": "Bulk"}).status_code == 201
    made = api.post(f"{API}/suppliers/BULK/items", json={**terms, "price_breaks": breaks})
    assert [b["min_quantity"] for b in made.json()["price_breaks"]] == ["20", "50"]
    rising = [{"min_quantity": 20, "price": "13"}]
    problem(
        api.patch(f"{API}/suppliers/BULK/items/BEANS", json={"price_breaks": rising}),
        422,
        "price_breaks",
    )


def test_reservations_hold_stock_until_released_or_shipped(api: TestClient) -> None:
    made = api.post(
        f"{API}/reservations",
        json={"sku": "CUP", "location": "WH", "quantity": 6, "reference": "SO-7/1"},
    )
    assert made.status_code == 201
    reservation = made.json()["id"]
    row = api.get(f"{API}/stock", params={"sku": "CUP", "location": "WH"}).json()["items"][0]
    assert (row["on_hand"], row["reserved"], row["available"]) == ("10", "6", "4")
    assert (
        api.post(f"{API}/reservations/{reservation}/release", json={"quantity": 1}).json()[
            "open_quantity"
        ]
        == "5"
    )
    shipped = api.post(f"{API}/reservations/{reservation}/consume", json={})
    assert shipped.status_code == 201
    assert shipped.json()["moves"][0]["target"] == "customer"
    again = api.post(f"{API}/reservations/{reservation}/release", json={})
    assert again.status_code == 409
    assert "consumed" in again.json()["detail"]
    assert (
        api.get(f"{API}/reservations", params={"reference": "SO-7/1"}).json()["items"][0]["status"]
        == "consumed"
    )


def test_the_same_idempotency_key_and_body_replays_the_first_response(api: TestClient) -> None:
    body = {"sku": "CUP", "location": "WH", "quantity": 1}
    first = api.post(f"{API}/stock/shipments", json=body, headers={"Idempotency-Key": "ship-1"})
    second = api.post(f"{API}/stock/shipments", json=body, headers={"Idempotency-Key": "ship-1"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert on_hand(api, "CUP", "WH") == "9"
    other = api.post(
        f"{API}/stock/shipments",
        json={**body, "quantity": 2},
        headers={"Idempotency-Key": "ship-1"},
    )
    problem(other, 422, "Idempotency-Key")
    assert on_hand(api, "CUP", "WH") == "9"


def test_a_retry_differing_only_in_whitespace_and_key_order_gets_the_replay(
    api: TestClient,
) -> None:
    key = {"Idempotency-Key": "ship-json", "Content-Type": "application/json"}
    first = api.post(
        f"{API}/stock/shipments",
        content=b'{"sku": "CUP", "location": "WH", "quantity": 1}',
        headers=key,
    )
    again = api.post(
        f"{API}/stock/shipments",
        content=b'{\n  "quantity":1,\n\t"location" : "WH", "sku":"CUP"\n}',
        headers=key,
    )
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert on_hand(api, "CUP", "WH") == "9"
    written_otherwise = api.post(
        f"{API}/stock/shipments",
        content=b'{"sku": "CUP", "location": "WH", "quantity": 1.0}',
        headers=key,
    )
    body = problem(written_otherwise, 422, "Idempotency-Key")
    assert "another request" in body["detail"]
    assert on_hand(api, "CUP", "WH") == "9"


def test_concurrent_retries_with_one_key_post_once(api: TestClient) -> None:
    body = {"sku": "CUP", "location": "WH", "quantity": 1}

    def post(_: int) -> tuple[int, Any]:
        r = api.post(f"{API}/stock/shipments", json=body, headers={"Idempotency-Key": "burst"})
        return r.status_code, r.json()

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(post, range(40)))
    assert {status for status, _ in results} == {201}
    assert len({str(body) for _, body in results}) == 1
    assert on_hand(api, "CUP", "WH") == "9"


def test_the_openapi_document_describes_the_api(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    assert f"{API}/stock/shipments" in spec["paths"]
    assert api.get("/docs").status_code == 200


def test_a_delivery_of_several_lines_is_received_and_shipped_at_once(api: TestClient) -> None:
    delivery = {
        "location": "WH",
        "supplier": None,
        "reference": "ASN-77",
        "lines": [
            {"sku": "BEANS", "quantity": "12.5"},
            {"sku": "MILK", "quantity": 6, "lot": "M1", "expires_on": "2099-01-01"},
        ],
    }
    received = api.post(f"{API}/stock/receipts", json=delivery)
    assert received.status_code == 201, received.text
    assert [(m["sku"], m["quantity"]) for m in received.json()["moves"]] == [
        ("BEANS", "12.5"),
        ("MILK", "6"),
    ]
    order = {
        "location": "WH",
        "lines": [{"sku": "BEANS", "quantity": 2}, {"sku": "CUP", "quantity": 3}],
    }
    assert api.post(f"{API}/stock/shipments", json=order).status_code == 201
    assert on_hand(api, "CUP", "WH") == "7"
    too_much = {
        "location": "WH",
        "lines": [{"sku": "CUP", "quantity": 1}, {"sku": "BEANS", "quantity": 99}],
    }
    refused = problem(api.post(f"{API}/stock/shipments", json=too_much), 409, "lines[1].quantity")
    assert refused["detail"].startswith("Line 2:")
    assert on_hand(api, "CUP", "WH") == "7"  # nothing of the refused shipment moved
    both = {"location": "WH", "sku": "CUP", "quantity": 1, "lines": [{"sku": "CUP", "quantity": 1}]}
    problem(api.post(f"{API}/stock/shipments", json=both), 422, "lines")
    twice = {
        "location": "WH",
        "lines": [{"sku": "CUP", "quantity": 1}, {"sku": "CUP", "quantity": 1}],
    }
    problem(api.post(f"{API}/stock/shipments", json=twice), 422, "lines[1].sku")
    expiring = {
        "location": "WH",
        "lines": [{"sku": "CUP", "quantity": 1, "expires_on": "2099-01-01"}],
    }
    problem(api.post(f"{API}/stock/shipments", json=expiring), 422, "lines.0.expires_on")


@pytest.mark.slow
def test_32_clients_reserving_over_http_get_exactly_what_is_there(api: TestClient) -> None:
    receipt = {"sku": "BEANS", "location": "WH", "quantity": 500}
    assert api.post(f"{API}/stock/receipts", json=receipt).status_code == 201

    def client(n: int) -> tuple[int, list[Any]]:
        won = 0
        while True:
            body = {"sku": "BEANS", "location": "WH", "quantity": 1, "reference": f"c{n}-{won}"}
            answer = api.post(f"{API}/reservations", json=body)
            if answer.status_code != 201:
                return won, [answer.status_code, answer.headers["content-type"], answer.json()]
            won += 1

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(client, range(32)))
    assert sum(won for won, _ in results) == 500
    for _, (status, content_type, body) in results:
        assert (status, content_type) == (409, "application/problem+json")
        assert body["errors"][0]["field"] == "quantity"
        assert "Only 0 of BEANS available" in body["detail"]
    row = api.get(f"{API}/stock", params={"sku": "BEANS", "location": "WH"}).json()["items"][0]
    assert (row["on_hand"], row["reserved"], row["available"]) == ("500", "500", "0")


def test_an_unknown_query_parameter_is_refused_naming_it(api: TestClient) -> None:
    refused = api.get(f"{API}/items", params={"bogus": "1", "categroy": "coffee"})
    assert refused.status_code == 422
    body = refused.json()
    assert [e["field"] for e in body["errors"]] == ["bogus", "categroy"]
    assert "category" in body["errors"][0]["message"]  # what it does take
    moves = api.get(f"{API}/items/CUP/moves", params={"newest": "true", "sort": "desc"})
    assert moves.status_code == 422
    assert "newest" in moves.json()["detail"]
    assert api.get(f"{API}/items/CUP/moves", params={"newest": "true"}).status_code == 200
    document = api.get("/openapi.json").json()
    items = document["paths"]["/api/v1/items"]["get"]["parameters"]
    category = next(p for p in items if p["name"] == "category")
    assert "exactly" in category["description"]
