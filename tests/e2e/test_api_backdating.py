"""Backdated moves through HTTP: the issue's example answers 409 naming the day, the closed
period is moved forward by managers and back only by owners (audited), and nothing is posted
on or before it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from leanstock.domain.access import Role

API = "/api/v1"
START = (datetime.now(UTC) - timedelta(days=30)).replace(hour=12, minute=0, second=0, microsecond=0)


def day(n: int) -> str:
    return (START + timedelta(days=n)).isoformat()


@pytest.fixture
def api(client: TestClient) -> TestClient:
    assert client.post(f"{API}/locations", json={"code": "WH", "name": "W"}).status_code == 201
    assert client.post(f"{API}/items", json={"sku": "CUP", "name": "Cup"}).status_code == 201
    return client


def move(api: TestClient, kind: str, quantity: int, at: str, **more: Any) -> Any:
    body = {"sku": "CUP", "location": "WH", "quantity": quantity, "occurred_at": at, **more}
    return api.post(f"{API}/stock/{kind}", json=body)


def test_the_issues_example_answers_409_naming_the_fifth(api: TestClient) -> None:
    assert move(api, "receipts", 10, day(1)).status_code == 201
    assert move(api, "shipments", 3, day(20)).status_code == 201
    assert move(api, "receipts", 5, day(10)).status_code == 201
    refused = move(api, "shipments", 12, day(5))
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert f"2 short on {day(5)[:10]}" in problem["detail"]
    assert "occurred_at" in [e["field"] for e in problem["errors"]]
    as_of = api.get(f"{API}/stock", params={"as_of": day(6), "sku": "CUP"}).json()
    assert [str(r["on_hand"]) for r in as_of["items"]] == ["10"]


def test_the_closed_period_moves_forward_for_managers_and_back_for_owners(
    api: TestClient, token_for: Callable[..., str]
) -> None:
    assert move(api, "receipts", 10, day(1)).status_code == 201
    manager = {"Authorization": f"Bearer {token_for('m@example.com', Role.MANAGER)}"}
    closed = api.put(
        f"{API}/settings/closed-period", json={"through": day(3)[:10]}, headers=manager
    )
    assert closed.status_code == 200, closed.text
    assert api.get(f"{API}/settings/closed-period").json() == {"through": day(3)[:10]}
    refused = move(api, "shipments", 1, day(3))
    assert refused.status_code == 409
    assert f"closed through {day(3)[:10]}" in refused.json()["detail"]
    assert move(api, "shipments", 1, day(4)).status_code == 201
    back = api.put(f"{API}/settings/closed-period", json={"through": day(2)[:10]}, headers=manager)
    assert back.status_code == 403
    assert "only an owner" in back.json()["detail"]
    reopened = api.put(f"{API}/settings/closed-period", json={"through": day(2)[:10]})
    assert reopened.status_code == 200
    assert move(api, "shipments", 1, day(3)).status_code == 201
    future = api.put(f"{API}/settings/closed-period", json={"through": "2999-01-01"})
    assert future.status_code == 422
    trail = api.get(f"{API}/audit", params={"action": "close_period"}).json()["items"]
    assert {(a["changes"]["through"], a["changes"]["previous"]) for a in trail} == {
        (day(3)[:10], None),
        (day(2)[:10], day(3)[:10]),
    }
    assert {a["actor"] for a in trail} == {"m@example.com", "owner@example.com"}


def test_backdated_moves_are_listed_with_what_they_revalued(api: TestClient) -> None:
    assert move(api, "receipts", 10, day(1), unit_cost="2").status_code == 201
    assert move(api, "receipts", 10, day(2), unit_cost="3").status_code == 201
    assert move(api, "shipments", 15, day(3)).status_code == 201
    assert api.get(f"{API}/stock/cost-flows").json()["cost_of_goods_sold"] == "35"
    late = move(api, "receipts", 5, day(0), unit_cost="1")
    assert late.status_code == 201
    # FIFO by hand: the day-3 shipment now takes 5 × 1 + 10 × 2 = 25, not 35.
    assert api.get(f"{API}/stock/cost-flows").json()["cost_of_goods_sold"] == "25"
    listed = api.get(f"{API}/moves", params={"backdated": "true", "sku": "CUP"}).json()
    assert listed["total"] == 4
    newest = listed["items"][0]
    assert newest["operation_id"] == late.json()["id"]
    assert (newest["later_cost_before"], newest["later_cost_after"]) == ("35", "25")
    assert newest["occurred_at"][:10] == day(0)[:10]
    assert newest["recorded_at"] > newest["occurred_at"]
    now = api.post(f"{API}/stock/receipts", json={"sku": "CUP", "location": "WH", "quantity": 1})
    assert now.status_code == 201
    assert api.get(f"{API}/moves", params={"backdated": "true"}).json()["total"] == 4
    refused = api.get(f"{API}/moves", params={"backdated": "false"})
    assert refused.status_code == 422
