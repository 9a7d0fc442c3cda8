"""Stocktakes through the HTTP API and the CLI (SQLite and PostgreSQL): a frozen, blind count
with moves during the count, posted as one adjustment with reason `count`; counts that clash
with an open one; and bad lines refused with a 4xx that changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from leanstock.domain.access import Role
from leanstock.entrypoints.cli import app

API = "/api/v1"


def call(api: TestClient, method: str, path: str, body: Any = None, status: int = 200) -> Any:
    response = api.request(method, f"{API}{path}", json=body)
    assert response.status_code == status, response.text
    return response.json()


def refused(api: TestClient, method: str, path: str, body: Any, status: int) -> dict[str, Any]:
    response = api.request(method, f"{API}{path}", json=body)
    assert response.status_code == status, response.text
    problem: dict[str, Any] = response.json()
    return problem


def _shop(api: TestClient) -> None:
    """WH holds 10 cups (category cups), 5 kg of flour in lot L1 and 3 in L2 (category
    baking); STORE holds 4 cups."""
    call(api, "POST", "/locations", {"code": "WH", "name": "Warehouse"}, 201)
    call(api, "POST", "/locations", {"code": "STORE", "name": "Store", "kind": "store"}, 201)
    call(api, "POST", "/items", {"sku": "CUP", "name": "Cup", "category": "cups"}, 201)
    flour = {"sku": "FLOUR", "name": "Flour", "unit": "kg", "lot_tracked": True}
    call(api, "POST", "/items", flour | {"category": "baking", "unit_cost": "2"}, 201)
    receipts = [
        {"sku": "CUP", "location": "WH", "quantity": 10},
        {"sku": "CUP", "location": "STORE", "quantity": 4},
        {"sku": "FLOUR", "location": "WH", "quantity": 5, "lot": "L1"},
        {"sku": "FLOUR", "location": "WH", "quantity": 3, "lot": "L2"},
    ]
    for receipt in receipts:
        call(api, "POST", "/stock/receipts", receipt, 201)


def _on_hand(api: TestClient, sku: str, location: str) -> dict[str | None, str]:
    rows = call(api, "GET", f"/items/{sku}/lots?location={location}")
    return {r["lot"]: r["quantity"] for r in rows}


def _lines(view: dict[str, Any]) -> dict[tuple[str, str | None], dict[str, Any]]:
    return {(x["sku"], x["lot"]): x for x in view["lines"]}


def test_a_frozen_blind_count_with_moves_during_it_posts_what_was_found(
    client: TestClient, db_url: str, token_for: Callable[..., str]
) -> None:
    api = client
    _shop(api)
    counter = TestClient(api.app, raise_server_exceptions=False)
    secret = token_for("counter@example.com", Role.WAREHOUSE, locations=["WH"])
    counter.headers["Authorization"] = f"Bearer {secret}"

    body = {"location": "WH", "freeze": True, "blind": True, "reference": "year end"}
    started = call(counter, "POST", "/stocktakes", body, 201)
    number = started["number"]
    assert started["status"] == "open"
    assert started["expected_shown"] is False
    # The counter gets the sheet (what to count) without the books' quantities.
    sheet = _lines(started)
    assert set(sheet) == {("CUP", None), ("FLOUR", "L1"), ("FLOUR", "L2")}
    assert all(x["expected"] is None for x in sheet.values())
    owners = _lines(call(api, "GET", f"/stocktakes/{number}"))
    assert {k: x["expected"] for k, x in owners.items()} == {
        ("CUP", None): "10",
        ("FLOUR", "L1"): "5",
        ("FLOUR", "L2"): "3",
    }

    # 2 cups are sold while the count goes on, before the cups are counted (7 found: one is
    # missing); 4 more arrive after the count, and 1 kg of L1 is used after L1 was counted.
    call(api, "POST", "/stock/shipments", {"sku": "CUP", "location": "WH", "quantity": 2}, 201)
    counts = {
        "lines": [
            {"sku": "CUP", "counted": 7},
            {"sku": "FLOUR", "lot": "L1", "counted": 5},
            {"sku": "FLOUR", "lot": "L2", "counted": "3.5"},
        ]
    }
    counted = call(counter, "PUT", f"/stocktakes/{number}/lines", counts)
    assert all(x["expected"] is None for x in counted["lines"])
    assert {x["counted_by"] for x in counted["lines"]} == {"counter@example.com"}
    call(api, "POST", "/stock/receipts", {"sku": "CUP", "location": "WH", "quantity": 4}, 201)
    scrap = {"sku": "FLOUR", "location": "WH", "quantity": 1, "lot": "L1", "reason": "damage"}
    call(api, "POST", "/stock/scraps", scrap, 201)

    posted = call(counter, "POST", f"/stocktakes/{number}/post")
    assert posted["status"] == "posted"
    lines = _lines(posted)
    # difference = counted − (snapshot + net moves from the snapshot to the count)
    assert (lines["CUP", None]["expected"], lines["CUP", None]["moved"]) == ("10", "-2")
    assert (lines["CUP", None]["book"], lines["CUP", None]["difference"]) == ("8", "-1")
    assert lines["FLOUR", "L1"]["difference"] == "0"
    assert lines["FLOUR", "L2"]["difference"] == "0.5"
    # After posting: what was counted plus what moved after the count.
    assert _on_hand(api, "CUP", "WH") == {None: "11"}
    assert _on_hand(api, "FLOUR", "WH") == {"L1": "4", "L2": "3.5"}
    cup_moves = call(api, "GET", "/items/CUP/moves?location=WH")["items"]
    flour_moves = call(api, "GET", "/items/FLOUR/moves?location=WH")["items"]
    counted_moves = [m for m in cup_moves + flour_moves if m["reason"] == "count"]
    assert {m["operation_id"] for m in counted_moves} == {posted["operation_id"]}
    assert sorted((m["source"], m["target"], m["quantity"]) for m in counted_moves) == [
        ("WH", "adjustment", "1"),
        ("adjustment", "WH", "0.5"),
    ]
    assert {m["reference"] for m in counted_moves} == {number}
    again = refused(api, "POST", f"/stocktakes/{number}/post", None, 409)
    assert "posted" in again["detail"]
    # Posted, the count no longer holds the location.
    call(api, "POST", "/stocktakes", {"location": "WH"}, 201)


def test_a_location_under_an_open_count_refuses_a_second_count_of_the_same_items(
    client: TestClient, db_url: str
) -> None:
    api = client
    _shop(api)
    cups = call(api, "POST", "/stocktakes", {"location": "WH", "category": "cups"}, 201)
    number = cups["number"]
    for clash in ({"location": "WH"}, {"location": "WH", "category": "cups"}):
        problem = refused(api, "POST", "/stocktakes", clash, 409)
        assert number in problem["detail"]
        assert "WH" in problem["detail"]
        assert "category cups" in problem["detail"]
    one_off = {"sku": "CUP", "location": "WH", "counted": 3}
    problem = refused(api, "POST", "/stock/counts", one_off, 409)
    assert number in problem["detail"]
    batch = call(
        api, "POST", "/stock/operations:batch", {"documents": [one_off | {"kind": "count"}]}
    )
    (result,) = batch["results"]
    assert result["status"] == 409
    assert number in result["problem"]["detail"]
    assert _on_hand(api, "CUP", "WH") == {None: "10"}
    # Other items, and other locations, may be counted meanwhile.
    call(api, "POST", "/stocktakes", {"location": "WH", "category": "baking"}, 201)
    call(api, "POST", "/stocktakes", {"location": "STORE"}, 201)
    flour = {"sku": "FLOUR", "location": "STORE", "counted": 0, "lot": "L1"}
    assert refused(api, "POST", "/stock/counts", flour, 409)["status"] == 409
    cancelled = call(api, "POST", f"/stocktakes/{number}/cancel")
    assert cancelled["status"] == "cancelled"
    call(api, "POST", "/stock/counts", one_off, 201)
    assert _on_hand(api, "CUP", "WH") == {None: "3"}
    listed = call(api, "GET", "/stocktakes?status=open")
    assert listed["total"] == 2
    assert {s["location"] for s in listed["items"]} == {"WH", "STORE"}


def test_bad_count_lines_are_refused_by_name_and_change_nothing(
    client: TestClient, db_url: str
) -> None:
    api = client
    _shop(api)
    number = call(api, "POST", "/stocktakes", {"location": "WH", "freeze": True}, 201)["number"]
    before = call(api, "GET", f"/stocktakes/{number}")
    path = f"/stocktakes/{number}/lines"
    good = {"sku": "CUP", "counted": 9}
    in_sacks = {"sku": "FLOUR", "lot": "L1", "counted": 1, "unit": "sack"}
    cases: list[tuple[dict[str, Any], int, str, str]] = [
        ({"sku": "FLOUR", "lot": "NOPE", "counted": 1}, 422, "lines[1].lot", "NOPE"),
        ({"sku": "GHOST", "counted": 1}, 422, "lines[1].sku", "GHOST"),
        ({"sku": "FLOUR", "lot": "L1", "counted": -1}, 422, "lines[1].counted", "-1"),
        ({"sku": "FLOUR", "counted": 1}, 422, "lines[1].lot", "lot-tracked"),
        ({"sku": "CUP", "lot": "L1", "counted": 1}, 422, "lines[1].lot", "not lot-tracked"),
        ({"sku": "CUP", "counted": 1}, 422, "lines[1].sku", "two lines"),
        (in_sacks, 422, "lines[1].unit", "sack"),
    ]
    for line, status, field, words in cases:
        problem = refused(api, "PUT", path, {"lines": [good, line]}, status)
        assert problem["errors"][0]["field"] == field, problem
        assert words in problem["detail"], problem
    assert refused(api, "PUT", path, {"lines": []}, 422)["status"] == 422
    assert call(api, "GET", f"/stocktakes/{number}") == before
    for unknown in ("ST-999999", "ST-99999999999999999999999", "MO-000001", "ST-"):
        missing = refused(api, "GET", f"/stocktakes/{unknown}", None, 404)
        assert unknown in missing["detail"]
    assert refused(api, "POST", "/stocktakes", {"location": "NOWHERE"}, 422)["status"] == 422
    virtual = refused(api, "POST", "/stocktakes", {"location": "adjustment"}, 422)
    assert "virtual" in virtual["detail"]
    nothing = refused(api, "POST", f"/stocktakes/{number}/post", None, 409)
    assert "no counted line" in nothing["detail"]
    cups = call(api, "POST", "/stocktakes", {"location": "STORE", "category": "cups"}, 201)
    problem = refused(
        api,
        "PUT",
        f"/stocktakes/{cups['number']}/lines",
        {"lines": [{"sku": "FLOUR", "lot": "L1", "counted": 1}]},
        422,
    )
    assert "category baking" in problem["detail"]
    assert _on_hand(api, "CUP", "WH") == {None: "10"}


def test_the_cli_runs_a_stocktake(client: TestClient, db_url: str) -> None:
    api = client
    _shop(api)
    runner = CliRunner()

    def cli(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, ["--database", db_url, "stocktake", *args])
        assert result.exit_code == code, result.output
        return result.output

    out = cli("start", "WH", "--category", "cups", "--freeze")
    number = next(word for word in out.split() if word.startswith("ST-"))
    assert "10" in cli("show", number)
    assert number in cli("start", "WH", code=2)
    assert "GHOST" in cli("count", number, "GHOST", "1", code=2)
    cli("count", number, "CUP", "12")
    out = cli("post", number)
    assert "posted" in out
    assert _on_hand(api, "CUP", "WH") == {None: "12"}
    assert number in cli("list")
    other = next(w for w in cli("start", "STORE").split() if w.startswith("ST-"))
    assert "cancelled" in cli("cancel", other)


def test_a_retried_start_with_its_idempotency_key_gets_the_same_count(
    client: TestClient, db_url: str
) -> None:
    api = client
    _shop(api)
    body = {"location": "WH", "freeze": True}
    headers = {"Idempotency-Key": "start-wh-1"}
    first = api.post(f"{API}/stocktakes", json=body, headers=headers)
    again = api.post(f"{API}/stocktakes", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert first.json() == again.json()
    # Without the key, a second start is a second count, refused while the first is open.
    assert refused(api, "POST", "/stocktakes", body, 409)["status"] == 409
    assert call(api, "GET", "/stocktakes")["total"] == 1
