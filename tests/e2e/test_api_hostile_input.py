"""Hostile input gets a problem naming the field, the same on SQLite and PostgreSQL, and
changes nothing: numbers past what the databases hold, control characters in text, dates
past what they store (issue #11, "Hostile input gives 500s")."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from conftest import OWNER, Templates, make_token
from leanstock.domain.access import Role
from leanstock.entrypoints.api.app import create_app
from leanstock.entrypoints.api.bounds import MAX_DAYS, MAX_ID, MAX_INT

API = "/api/v1"
HUGE = "9223372036854775808"  # 2**63: past every integer column


@pytest.fixture
def db_url(db_kind: str, templates: Templates, request: pytest.FixtureRequest) -> Iterator[str]:
    """A copy of the template `open_the_warehouse` wrote (once per session and worker) for the
    tests that ask for `api`."""
    with templates.for_test(
        request, db_kind, {"api": ("hostile_warehouse", open_the_warehouse)}
    ) as url:
        yield url


def open_the_warehouse(engine: Engine) -> None:
    """WH; MILK (by lot, 9 days' shelf life) and CUP; the supplier ACME: made through the API,
    as the owner the tests' `client` signs in as."""
    owner = {"Authorization": f"Bearer {make_token(engine, OWNER, Role.OWNER)}"}
    with TestClient(create_app(engine=engine), headers=owner) as client:
        place = {"code": "WH", "name": "Warehouse"}
        assert client.post(f"{API}/locations", json=place).status_code == 201
        body = {"sku": "MILK", "name": "Milk", "unit": "l", "lot_tracked": True}
        body["shelf_life_days"] = 9
        assert client.post(f"{API}/items", json=body).status_code == 201
        assert client.post(f"{API}/items", json={"sku": "CUP", "name": "Cup"}).status_code == 201
        acme = {"code": "ACME", "name": "Acme"}
        assert client.post(f"{API}/suppliers", json=acme).status_code == 201


@pytest.fixture
def api(client: TestClient) -> TestClient:
    """The owner's client on this test's copy of the warehouse `open_the_warehouse` made."""
    return client


def problem(response: Any, field: str, status: int = 422) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    fields = [e["field"] for e in body.get("errors", [])]
    assert field in fields, body
    return str(body["detail"])


def raw(api: TestClient, path: str, text: str) -> Any:
    """POST a body as written: JSON numbers Python's json module would not write."""
    return api.post(f"{API}{path}", content=text, headers={"Content-Type": "application/json"})


# Integers past what a column holds


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/items?offset={HUGE}", "offset"),
        (f"/items?offset={MAX_INT + 1}", "offset"),
        (f"/reservations/{HUGE}", "reservation_id"),
        (f"/reservations/{MAX_ID + 1}", "reservation_id"),
        (f"/reservations/-{HUGE}", "reservation_id"),
        (f"/plan-runs/{HUGE}", "run_id"),
        (f"/tokens/{HUGE}", "token_id"),
    ],
)
def test_an_integer_past_its_bound_is_a_422_naming_it(
    api: TestClient, path: str, field: str
) -> None:
    problem(api.get(f"{API}{path}"), field)


def test_the_largest_id_and_offset_are_answered(api: TestClient) -> None:
    assert api.get(f"{API}/reservations/{MAX_ID}").status_code == 404
    page = api.get(f"{API}/items", params={"offset": MAX_INT})
    assert page.status_code == 200, page.text
    assert page.json()["items"] == []


@pytest.mark.parametrize("days", [2147483648, 10_000_000, MAX_DAYS + 1, 0])
def test_a_shelf_life_past_its_bound_is_refused_and_no_item_is_made(
    api: TestClient, days: int
) -> None:
    body = {"sku": "YOG", "name": "Yoghurt", "lot_tracked": True, "shelf_life_days": days}
    problem(api.post(f"{API}/items", json=body), "shelf_life_days")
    problem(api.patch(f"{API}/items/MILK", json={"shelf_life_days": days}), "shelf_life_days")
    assert api.get(f"{API}/items/YOG").status_code == 404
    assert api.get(f"{API}/items/MILK").json()["shelf_life_days"] == 9


def test_the_longest_shelf_life_then_a_receipt_gets_its_expiry_date(api: TestClient) -> None:
    """`shelf_life_days` 10,000,000 then a lot receipt was "date value out of range"; now the
    longest shelf life the API takes still dates a lot."""
    assert api.patch(f"{API}/items/MILK", json={"shelf_life_days": MAX_DAYS}).status_code == 200
    receipt = {
        "sku": "MILK",
        "location": "WH",
        "quantity": "5",
        "lot": "L1",
        "occurred_at": "2999-12-31T12:00:00Z",
    }
    problem(api.post(f"{API}/stock/receipts", json=receipt), "occurred_at")  # in the future
    receipt.pop("occurred_at")
    done = api.post(f"{API}/stock/receipts", json=receipt)
    assert done.status_code == 201, done.text
    lots = api.get(f"{API}/items/MILK/lots").json()
    assert [lot["lot"] for lot in lots] == ["L1"]
    assert lots[0]["expires_on"] > "2120-01-01"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/suppliers/ACME/items",
            '{"sku": "CUP", "price": 1, "lead_time_days": 2147483648}',
            "lead_time_days",
        ),
        (
            "/suppliers/ACME/items",
            '{"sku": "CUP", "price": 1, "lead_time_days": 1, "priority": 9223372036854775808}',
            "priority",
        ),
        (
            "/sales-orders/SO-000001/returns",
            '{"line": 9223372036854775808, "quantity": 1, "to": "stock"}',
            "line",
        ),
    ],
)
def test_an_integer_in_a_body_past_its_bound_is_refused(
    api: TestClient, path: str, body: str, field: str
) -> None:
    problem(raw(api, path, body), field)


# Decimals past what a column holds


@pytest.mark.parametrize("number", ['"1e30"', "1e30", str(10**30), '"-1e30"', "1e-30"])
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/stock/receipts", '{"sku": "CUP", "location": "WH", "quantity": %s}', "quantity"),
        (
            "/stock/receipts",
            '{"sku": "CUP", "location": "WH", "quantity": 1, "unit_cost": %s}',
            "unit_cost",
        ),
        ("/suppliers/ACME/items", '{"sku": "CUP", "lead_time_days": 1, "price": %s}', "price"),
        ("/items", '{"sku": "BIG", "name": "Big", "unit_cost": %s}', "unit_cost"),
        (
            "/sales-orders",
            '{"customer": "Ann", "location": "WH", "lines": [{"sku": "CUP", "quantity": %s}]}',
            "lines.0.quantity",
        ),
    ],
)
def test_a_decimal_past_its_bound_is_a_422_naming_it(
    api: TestClient, path: str, body: str, field: str, number: str
) -> None:
    detail = problem(raw(api, path, body % number), field)
    assert "digits" in detail or "decimal places" in detail or "finite" in detail, detail
    stock = api.get(f"{API}/stock", params={"sku": "CUP"}).json()["items"]
    assert stock == []
    assert api.get(f"{API}/items/BIG").status_code == 404


def test_the_largest_exact_quantity_is_taken(api: TestClient) -> None:
    body = {"sku": "CUP", "location": "WH", "quantity": "999999999999"}
    assert api.post(f"{API}/stock/receipts", json=body).status_code == 201
    terms = {"sku": "CUP", "lead_time_days": MAX_DAYS, "price": "999999999999.999999"}
    assert api.post(f"{API}/suppliers/ACME/items", json=terms).status_code == 201


def test_a_decimal_query_parameter_past_its_bound_is_refused(api: TestClient) -> None:
    problem(api.get(f"{API}/boms/CUP/explosion", params={"quantity": "1e30"}), "quantity")


# Control characters in text


@pytest.mark.parametrize("bad", ["\x00", "\x1b[31m", "\x7f", "\ud800"])
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/items", {"sku": "NEW", "name": "Cup{}"}, "name"),
        ("/locations", {"code": "L2", "name": "Shelf{}"}, "name"),
        (
            "/stock/receipts",
            {"sku": "CUP", "location": "WH", "quantity": 1, "reference": "PO{}"},
            "reference",
        ),
        (
            "/reservations",
            {"sku": "CUP", "location": "WH", "quantity": 1, "reference": "R{}"},
            "reference",
        ),
        (
            "/sales-orders",
            {"customer": "Ann{}", "location": "WH", "lines": [{"sku": "CUP", "quantity": 1}]},
            "customer",
        ),
        ("/items", {"sku": "NEW{}", "name": "Cup"}, "sku"),
    ],
)
def test_a_control_character_in_text_is_refused_naming_the_field(
    api: TestClient, path: str, body: dict[str, Any], field: str, bad: str
) -> None:
    """A NUL was stored by SQLite and a 500 on PostgreSQL; both now answer 422."""
    text = json.dumps(body).replace("{}", json.dumps(bad)[1:-1])
    detail = problem(raw(api, path, text), field)
    # A lone surrogate is not text at all: the JSON reader refuses it already.
    assert "control characters" in detail or "unicode" in detail, detail
    assert api.get(f"{API}/items/NEW").status_code == 404
    assert api.get(f"{API}/sales-orders").json()["items"] == []
    assert api.get(f"{API}/reservations").json()["items"] == []


def test_tabs_and_line_breaks_in_a_note_are_kept(api: TestClient) -> None:
    body = {"sku": "CUP", "location": "WH", "quantity": 1, "reference": "a\tb"}
    assert api.post(f"{API}/stock/receipts", json=body).status_code == 201


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (f"{API}/items/A%00B", "sku"),
        (f"{API}/items?q=%00", "q"),
        (f"{API}/sales-orders?customer=a%00", "customer"),
        (f"{API}/suppliers/AC%1BME/items", "code"),
    ],
)
def test_a_control_character_in_a_path_or_query_is_refused(
    api: TestClient, url: str, field: str
) -> None:
    problem(api.get(url), field)


def test_a_control_character_in_a_web_page_path_is_a_page_not_a_crash(api: TestClient) -> None:
    assert api.get("/items/A%00B").status_code in (401, 303, 422)


# Dates past what the databases store


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/stock/receipts",
            {
                "sku": "MILK",
                "location": "WH",
                "quantity": 1,
                "lot": "X",
                "expires_on": "0001-01-01",
            },
            "expires_on",
        ),
        (
            "/stock/receipts",
            {
                "sku": "MILK",
                "location": "WH",
                "quantity": 1,
                "lot": "X",
                "expires_on": "9999-12-31",
            },
            "expires_on",
        ),
        (
            "/stock/receipts",
            {
                "sku": "CUP",
                "location": "WH",
                "quantity": 1,
                "occurred_at": "0001-01-01T00:00:00+05:00",
            },
            "occurred_at",
        ),
        ("/stock/expiry", {"today": "9999-12-31"}, "today"),
    ],
)
def test_a_date_past_what_the_databases_store_is_refused(
    api: TestClient, path: str, body: dict[str, Any], field: str
) -> None:
    detail = problem(api.post(f"{API}{path}", json=body), field)
    assert "1900" in detail, detail
    assert "2999" in detail, detail
    assert api.get(f"{API}/stock", params={"sku": "CUP"}).json()["items"] == []


def test_a_date_in_a_query_past_what_the_databases_store_is_refused(api: TestClient) -> None:
    problem(api.get(f"{API}/stock", params={"as_of": "0001-01-01T00:00:00Z"}), "as_of")
    problem(api.get(f"{API}/supplier-scorecards", params={"since": "9999-12-31"}), "since")


# The OpenAPI document states all of it


def test_the_openapi_document_states_the_bounds_and_every_error(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    item = schemas["ItemIn"]["properties"]
    assert item["name"]["pattern"].startswith("^[^\x00")
    shelf = next(s for s in item["shelf_life_days"]["anyOf"] if s.get("type") == "integer")
    assert (shelf["minimum"], shelf["maximum"]) == (1, MAX_DAYS)
    cost = item["unit_cost"]["anyOf"][0]
    assert cost["exclusiveMaximum"] == 1e12
    items = spec["paths"][f"{API}/items"]
    offset = next(p for p in items["get"]["parameters"] if p["name"] == "offset")
    assert offset["schema"]["maximum"] == MAX_INT
    responses = items["post"]["responses"]
    for status in ("400", "401", "403", "404", "409", "413", "422"):
        assert "application/problem+json" in responses[status]["content"], status
    assert "HTTPValidationError" not in schemas
    login = spec["paths"][f"{API}/auth/login"]["post"]["responses"]
    assert {"401", "429"} <= set(login)


def test_an_undeclared_method_is_a_405_naming_every_method_the_path_takes(
    api: TestClient,
) -> None:
    refused = api.request("PUT", f"{API}/items")
    assert refused.status_code == 405
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["allow"] == "GET, POST"


def test_the_longest_codes_are_accepted_with_their_events(api: TestClient) -> None:
    """A code may have 64 characters; the event it publishes names it with a prefix
    (`customer:` + 64), which must fit the outbox as well (PostgreSQL refused it once)."""
    longest = "C" * 64
    made = [
        api.post(f"{API}/items", json={"sku": longest, "name": "Long"}),
        api.post(f"{API}/suppliers", json={"code": longest, "name": "Long"}),
        api.post(f"{API}/locations", json={"code": longest, "name": "Long"}),
        api.post(f"{API}/customers", json={"code": longest, "name": "Long"}),
    ]
    assert [response.status_code for response in made] == [201] * 4, [r.text for r in made]
    assert api.get(f"{API}/customers/{longest}").json()["code"] == longest
    assert api.get(f"{API}/items/{longest}").json()["sku"] == longest
