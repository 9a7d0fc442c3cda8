"""Forecast runs from the sales history, stored with their accuracy, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from conftest import Templates
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, Location
from leanstock.domain.errors import InvalidInput
from leanstock.entrypoints.cli import app
from leanstock.services import catalog, forecasting, stock
from leanstock.services.orders import NewLine, place_order

WEEKS = 40


@pytest.fixture
def db_url(db_kind: str, templates: Templates, request: pytest.FixtureRequest) -> Iterator[str]:
    """A copy of the history (40 weeks of orders, made once per session) for the tests that
    ask for `history`, else an empty database."""
    seeds = {"history": ("forecasting_history", sell_for_forty_weeks)}
    with templates.for_test(request, db_kind, seeds) as url:
        yield url


@pytest.fixture
def history(uow: UnitOfWork) -> UnitOfWork:
    """Two items sold for 40 weeks: a steady one (~20 a week) and a slow, lumpy one."""
    return uow


def sell_for_forty_weeks(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("STEADY", "Steady seller"))
    catalog.add_item(uow, Item("LUMPY", "Slow mover"))
    stock.receive(uow, "STEADY", "WH", Decimal(100_000))
    stock.receive(uow, "LUMPY", "WH", Decimal(100_000))
    rng = np.random.default_rng(7)
    monday = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    monday -= timedelta(days=monday.weekday() + 7 * WEEKS)
    for week in range(WEEKS):
        day = monday + timedelta(weeks=week)
        lines = [NewLine("STEADY", Decimal(int(rng.poisson(20)) + 1), "WH")]
        if rng.random() < 0.25:
            lines.append(NewLine("LUMPY", Decimal(int(rng.integers(5, 15))), "WH"))
        place_order(uow, f"Customer {week}", lines, confirm=True, ordered_at=day)


def test_a_forecast_run_is_stored_with_quantiles_and_accuracy(history: UnitOfWork) -> None:
    run = forecasting.run_forecast(history, 4, "W")
    assert (run.freq, run.horizon, run.series) == ("W", 4, 2)
    assert run.accuracy["overall"] is not None
    assert run.accuracy["overall"]["mase"] > 0

    found, points = forecasting.item_forecast(history, "STEADY")
    assert found.id == run.id
    assert len(points) == 4
    for point in points:
        q = point["quantiles"]
        assert q["q50"] <= q["q90"] <= q["q99"]
        assert 12 <= point["forecast"] <= 30  # the weekly mean is 21

    _, models = forecasting.item_accuracy(history, "LUMPY")
    chosen = [m for m in models if m["chosen"]]
    assert len(chosen) == 1
    assert chosen[0]["demand_class"] in ("intermittent", "lumpy", "erratic", "smooth")
    assert len(models) > 1


def test_the_week_still_running_is_not_read_as_a_week_without_demand(
    history: UnitOfWork,
) -> None:
    """A sale of one item this week must not zero every other item's forecast (the forecaster
    reads each series up to the newest period of any): forecasts read ended periods only."""
    place_order(history, "Early bird", [NewLine("LUMPY", Decimal(3), "WH")], confirm=True)
    today = datetime.now(UTC).date()
    this_monday = today - timedelta(days=today.weekday())
    run = forecasting.run_forecast(history, 4, "W")
    assert run.history_to == this_monday - timedelta(weeks=1)
    _, points = forecasting.item_forecast(history, "STEADY")
    assert points[0]["ds"] == this_monday
    assert all(12 <= point["forecast"] <= 30 for point in points)  # the weekly mean is 21


def test_each_run_is_kept_so_accuracy_can_be_followed(history: UnitOfWork) -> None:
    first = forecasting.run_forecast(history, 2, "W")
    second = forecasting.run_forecast(history, 3, "W")
    runs = forecasting.forecast_runs(history)
    assert runs.total == 2
    assert [r.id for r in runs.items] == [second.id, first.id]
    assert len(forecasting.item_forecast(history, "STEADY", run_id=first.id)[1]) == 2


def test_no_history_is_a_clear_error(uow: UnitOfWork) -> None:
    with pytest.raises(InvalidInput, match="no sales history"):
        forecasting.run_forecast(uow, 4, "W")


def test_forecasts_and_events_through_the_api(history: UnitOfWork, client: TestClient) -> None:
    event = {
        "name": "Summer sale",
        "starts_on": "2026-07-01",
        "ends_on": "2026-07-07",
        "uplift": 1.5,
    }
    assert client.post("/api/v1/events", json=event).status_code == 201
    bad = client.post("/api/v1/events", json={**event, "ends_on": "2026-06-01"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "ends_on"
    assert client.post("/api/v1/forecast-runs", json={"horizon": 0}).status_code == 422
    assert client.post("/api/v1/forecast-runs", json={"horizon": 3, "freq": "Q"}).status_code == 422
    made = client.post("/api/v1/forecast-runs", json={"horizon": 3, "freq": "W"})
    assert made.status_code == 201, made.text
    forecast = client.get("/api/v1/items/STEADY/forecast", params={"location": "WH"}).json()
    assert len(forecast["points"]) == 3
    assert {"q50", "q80", "q90", "q95", "q99"} <= set(forecast["points"][0]["quantiles"])
    accuracy = client.get("/api/v1/items/STEADY/forecast-accuracy").json()
    assert any(m["chosen"] for m in accuracy["models"])
    assert client.get("/api/v1/forecast-runs").json()["total"] == 1
    assert client.get("/api/v1/items/NOPE/forecast").status_code == 404


def test_the_forecast_command_runs_on_the_database(history: UnitOfWork, db_url: str) -> None:
    result = CliRunner().invoke(
        app, ["--database", db_url, "forecast", "--horizon", "3", "--freq", "W"]
    )
    assert result.exit_code == 0, result.output
    assert "Forecast run 1: 2 series" in result.output
    assert forecasting.get_forecast_run(history).horizon == 3
    refused = CliRunner().invoke(
        app, ["--database", db_url, "forecast", "--horizon", "3", "--freq", "Q"]
    )
    assert refused.exit_code == 2
    assert "Unknown frequency 'Q'" in refused.output


def test_the_reconciled_category_total_is_stored_and_adds_up(
    history: UnitOfWork, client: TestClient
) -> None:
    run = forecasting.run_forecast(history, 4, "W")

    found, total = forecasting.forecast_total(history, "category", "general")
    assert found.id == run.id
    assert len(total) == 4
    parts = [forecasting.item_forecast(history, sku)[1] for sku in ("STEADY", "LUMPY")]
    for period, point in enumerate(total):
        assert point["forecast"] == pytest.approx(sum(p[period]["forecast"] for p in parts))
        assert point["quantiles"]["q50"] <= point["quantiles"]["q95"]
    served = client.get("/api/v1/forecast-totals/category/general").json()
    assert [p["forecast"] for p in served["points"]] == pytest.approx(
        [p["forecast"] for p in total]
    )
    assert client.get("/api/v1/forecast-totals/item/NOPE").status_code == 404
    assert client.get("/api/v1/forecast-totals/shelf/general").status_code == 422
