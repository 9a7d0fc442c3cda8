"""A warehouse user limited to some locations reads forecasts and plans of those locations
only, as it does stock and orders (the authorization table covers those): both databases."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from small_business import cafe_with_history
from sqlalchemy import Engine

from leanstock.domain.access import Role

API = "/api/v1"


def test_a_limited_warehouse_user_reads_only_its_locations_forecasts_and_plan_lines(
    engine: Engine, client: TestClient, token_for: Callable[..., str]
) -> None:
    cafe_with_history(engine)
    assert client.post(f"{API}/forecast-runs", json={"horizon": 4}).status_code == 201
    plan = client.post(f"{API}/plan-runs", json={})
    assert plan.status_code == 201, plan.text
    everywhere = {line["location"] for line in plan.json()["lines"]}
    assert everywhere == {"WH", "CAFE"}
    kim = {
        "Authorization": f"Bearer {token_for('kim@example.com', Role.WAREHOUSE, locations=['WH'])}"
    }

    seen = client.get(f"{API}/plan-runs/{plan.json()['id']}", headers=kim).json()
    assert {line["location"] for line in seen["lines"]} == {"WH"}
    for sku in ("BEANS", "CUPS"):
        for path in (f"/items/{sku}/forecast", f"/items/{sku}/forecast-accuracy"):
            response = client.get(f"{API}{path}", headers=kim)
            assert response.status_code == 200, response.text
            assert '"CAFE"' not in response.text, (path, response.text[:300])
        named = client.get(f"{API}/items/{sku}/forecast", params={"location": "CAFE"}, headers=kim)
        assert (named.status_code, named.json()["detail"]) == (404, "No location CAFE exists.")
    # The owner reads both.
    assert '"CAFE"' in client.get(f"{API}/items/CUPS/forecast").text
