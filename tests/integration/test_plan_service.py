"""The plan run: forecasts and stock in, reviewed and released orders out (both databases)."""

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
from leanstock.domain.catalog import (
    Item,
    Location,
    LocationKind,
    Policy,
    PriceBreak,
    Supplier,
    SupplierItem,
)
from leanstock.domain.errors import InvalidInput, InvalidTransition
from leanstock.entrypoints.cli import app
from leanstock.services import catalog, forecasting, planning, purchasing, stock
from leanstock.services.orders import NewLine, place_order, ship_order

WEEKS = 30


@pytest.fixture
def db_url(db_kind: str, templates: Templates, request: pytest.FixtureRequest) -> Iterator[str]:
    """This test's database: a copy of the café (made once per session: it runs a forecast)
    for the tests that ask for `cafe`, else an empty one."""
    with templates.for_test(request, db_kind, {"cafe": ("plan_cafe", open_the_cafe)}) as url:
        yield url


@pytest.fixture
def cafe(uow: UnitOfWork) -> UnitOfWork:
    """A roastery warehouse and a café: beans bought from a roaster (backup: a wholesaler),
    cups kept at the café and refilled from the warehouse; 30 weeks of sales, and a forecast."""
    return uow


def open_the_cafe(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_location(uow, Location("CAFE", "Café", LocationKind.STORE))
    catalog.add_item(uow, Item("BEANS", "Coffee beans", unit="kg", unit_cost=Decimal(12)))
    catalog.add_item(uow, Item("CUPS", "Cups", unit_cost=Decimal("0.05"), policy=Policy.TRANSFER))
    catalog.add_supplier(uow, Supplier("ROAST", "Roastery"))
    catalog.add_supplier(uow, Supplier("BULK", "Wholesaler"))
    catalog.add_supplier_item(
        uow, SupplierItem("ROAST", "BEANS", Decimal(11), 7, moq=Decimal(10), pack_size=Decimal(5))
    )
    catalog.add_supplier_item(uow, SupplierItem("BULK", "BEANS", Decimal(13), 3, priority=2))
    rng = np.random.default_rng(3)
    start = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    start -= timedelta(days=start.weekday() + 7 * WEEKS)
    # The opening stock was there before the history it served (no past may go negative).
    opening = start - timedelta(days=1)
    stock.receive(uow, "BEANS", "WH", Decimal(2000), occurred_at=opening)
    stock.receive(uow, "CUPS", "CAFE", Decimal(2000), occurred_at=opening)
    stock.receive(uow, "CUPS", "WH", Decimal(5000), occurred_at=opening)
    for week in range(WEEKS):
        lines = [
            NewLine("BEANS", Decimal(int(rng.poisson(40)) + 1), "WH"),
            NewLine("CUPS", Decimal(int(rng.poisson(60)) + 1), "CAFE"),
        ]
        when = start + timedelta(weeks=week)
        order = place_order(uow, f"Guest {week}", lines, confirm=True, ordered_at=when)
        ship_order(uow, order.number, occurred_at=when + timedelta(hours=2))
    # Little left: the plan must reorder both.
    stock.count(uow, "BEANS", "WH", Decimal(10))
    stock.count(uow, "CUPS", "CAFE", Decimal(2))
    forecasting.run_forecast(uow, 8, "W")


def test_a_plan_suggests_jit_orders_with_their_reasons(cafe: UnitOfWork) -> None:
    plan = planning.run_plan(cafe)
    lines = {line.sku: line for line in plan.lines}
    beans, cups = lines["BEANS"], lines["CUPS"]
    assert (beans.kind, beans.supplier, beans.location) == ("purchase", "ROAST", "WH")
    assert beans.quantity >= 10  # the minimum order
    assert beans.quantity % 5 == 0  # in packs of 5
    assert beans.unit_cost == 11
    today = datetime.now(UTC).date()
    assert beans.order_by == max(today, beans.need_by - timedelta(days=7))  # JIT: need − lead
    assert "reorder point" in beans.explanation
    assert "ROAST" in beans.explanation
    assert (cups.kind, cups.source, cups.location) == ("transfer", "WH", "CAFE")
    assert plan.summary["orders"] == len(plan.lines)
    assert Decimal(plan.summary["value"]) == sum(
        (line.value for line in plan.lines), Decimal(0)
    ).quantize(Decimal("0.01"))


def test_an_unavailable_supplier_gives_way_to_its_backup(cafe: UnitOfWork) -> None:
    catalog.update_supplier(cafe, "ROAST", {"active": False})
    beans = next(line for line in planning.run_plan(cafe).lines if line.sku == "BEANS")
    assert beans.supplier == "BULK"
    assert "ROAST is marked unavailable" in beans.explanation


def test_a_quantity_discount_can_make_another_supplier_cheaper(cafe: UnitOfWork) -> None:
    catalog.update_supplier_item(
        cafe,
        "BULK",
        "BEANS",
        {"priority": 1, "price_breaks": (PriceBreak(Decimal(20), Decimal(9)),)},
    )
    beans = next(line for line in planning.run_plan(cafe).lines if line.sku == "BEANS")
    assert beans.supplier == "BULK"
    assert beans.quantity >= 20
    assert beans.unit_cost == 9


def test_a_reviewed_plan_is_released_as_orders(cafe: UnitOfWork) -> None:
    plan = planning.run_plan(cafe)
    beans = next(line for line in plan.lines if line.sku == "BEANS")
    cups = next(line for line in plan.lines if line.sku == "CUPS")
    planning.edit_plan_line(cafe, plan.id, beans.id, Decimal(100))
    planning.approve_plan(cafe, plan.id)
    with pytest.raises(InvalidTransition):
        planning.edit_plan_line(cafe, plan.id, beans.id, Decimal(5))
    released = planning.release_plan(cafe, plan.id)
    assert released.status == "released"
    done = {line.sku: line for line in released.lines}
    assert done["BEANS"].status == "released"
    order = purchasing.get_purchase_order(cafe, done["BEANS"].released_order or "")
    assert order.status == "released"
    assert [(ln.sku, ln.quantity) for ln in order.lines] == [("BEANS", Decimal(100))]
    assert done["CUPS"].released_order is not None
    _ = cups
    # The next plan sees the open supply and does not order the beans again.
    again = planning.run_plan(cafe)
    assert all(line.sku != "BEANS" for line in again.lines)
    with pytest.raises(InvalidTransition):
        planning.release_plan(cafe, plan.id)


def test_a_transfer_takes_no_more_than_its_source_has_free(cafe: UnitOfWork) -> None:
    stock.count(cafe, "CUPS", "WH", Decimal(3))
    cups = next(line for line in planning.run_plan(cafe).lines if line.sku == "CUPS")
    assert cups.quantity == 3
    assert "capped at the 3 WH has free" in cups.explanation
    stock.count(cafe, "CUPS", "WH", Decimal(0))
    plan = planning.run_plan(cafe)
    bought = [line for line in plan.lines if line.sku == "CUPS"]
    # No transfer from an empty warehouse; the warehouse itself buys for the café's demand
    # (which passes up to it), though no supplier sells cups yet.
    assert [(line.kind, line.location) for line in bought] == [("purchase", "WH")]
    assert "no supplier sells it" in bought[0].explanation
    assert plan.summary["transfers_waiting"] == 1
    planning.edit_plan_line(cafe, plan.id, bought[0].id, Decimal(0))  # nobody to buy from
    planning.approve_plan(cafe, plan.id)
    assert planning.release_plan(cafe, plan.id).status == "released"


def test_planning_needs_a_forecast(uow: UnitOfWork) -> None:
    with pytest.raises(InvalidInput, match="no forecast yet"):
        planning.run_plan(uow)


def test_plans_through_the_api(cafe: UnitOfWork, client: TestClient) -> None:
    assert client.post("/api/v1/plan-runs", json={"service_level": 1.5}).status_code == 422
    made = client.post("/api/v1/plan-runs", json={"service_level": 0.95})
    assert made.status_code == 201, made.text
    plan = made.json()
    line = plan["lines"][0]
    dropped = client.post(f"/api/v1/plan-runs/{plan['id']}/lines/{line['id']}/drop").json()
    assert next(x for x in dropped["lines"] if x["id"] == line["id"])["status"] == "dropped"
    early = client.post(f"/api/v1/plan-runs/{plan['id']}/release")
    assert early.status_code == 409
    assert "approve" in early.json()["detail"]
    assert client.post(f"/api/v1/plan-runs/{plan['id']}/approve").json()["status"] == "approved"
    released = client.post(f"/api/v1/plan-runs/{plan['id']}/release").json()
    assert released["status"] == "released"
    assert next(x for x in released["lines"] if x["id"] == line["id"])["released_order"] is None
    assert client.get("/api/v1/plan-runs").json()["total"] == 1
    assert client.get("/api/v1/plan-runs/999").status_code == 404


def test_plans_from_the_command_line(cafe: UnitOfWork, db_url: str) -> None:
    runner = CliRunner()

    def leanstock(*args: str) -> str:
        result = runner.invoke(app, ["--database", db_url, *args])
        assert result.exit_code == 0, result.output
        return result.output

    out = leanstock("plan", "--explain")
    assert "BEANS" in out
    assert "reorder point" in out
    run_id = planning.list_plans(cafe).items[0].id
    line = planning.get_plan(cafe, run_id).lines[0]
    leanstock("plan-edit", str(run_id), str(line.id), "0")
    leanstock("plan-approve", str(run_id))
    assert "released" in leanstock("plan-release", str(run_id))
    refused = runner.invoke(app, ["--database", db_url, "plan-approve", str(run_id)])
    assert refused.exit_code == 2
    assert "only a draft" in refused.output


@pytest.fixture
def bakery(uow: UnitOfWork) -> UnitOfWork:
    """Sourdough that keeps one day, bought daily from a baker one day away: 16 weeks of
    sales of about 15 a day."""
    catalog.add_location(uow, Location("SHOP", "Shop"))
    catalog.add_item(
        uow,
        Item(
            "BRD-001",
            "Sourdough",
            unit_cost=Decimal(2),
            lot_tracked=True,
            shelf_life_days=1,
            policy=Policy.PERIODIC,
        ),
    )
    catalog.add_supplier(uow, Supplier("BAKER", "Baker"))
    catalog.add_supplier_item(uow, SupplierItem("BAKER", "BRD-001", Decimal("1.5"), 1))
    rng = np.random.default_rng(5)
    sold = [Decimal(int(q) + 1) for q in rng.poisson(15, 7 * 16)]
    today = datetime.now(UTC).date()
    start = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    stock.receive(
        uow,
        "BRD-001",
        "SHOP",
        sum(sold, Decimal(0)) + 5,
        lot="L1",
        expires_on=today + timedelta(days=1),
        occurred_at=start - timedelta(days=len(sold) + 1),
    )
    for day, quantity in enumerate(sold):
        when = start - timedelta(days=len(sold) - day)
        order = place_order(
            uow, "Walk-in", [NewLine("BRD-001", quantity, "SHOP")], confirm=True, ordered_at=when
        )
        ship_order(uow, order.number, occurred_at=when + timedelta(hours=1))
    return uow


@pytest.mark.slow
@pytest.mark.parametrize("freq", ["W", "M"])
def test_shelf_life_caps_the_plan_whatever_the_forecast_period(
    bakery: UnitOfWork, freq: str
) -> None:
    forecasting.run_forecast(bakery, 3, freq)
    run = planning.run_plan(bakery)
    bread = next(line for line in run.lines if line.sku == "BRD-001")
    # At most the day's lead time plus the day it keeps: about two days' sales, not eight.
    assert bread.figures["order_up_to"] <= 2 * 17
    assert "capped by the 1 days' shelf life" in bread.explanation


def test_the_plan_counts_backordered_sales_as_demand_to_cover(cafe: UnitOfWork) -> None:
    before = next(line for line in planning.run_plan(cafe).lines if line.sku == "BEANS")
    order = place_order(cafe, "Hotel", [NewLine("BEANS", Decimal(500), "WH")], confirm=True)
    assert order.lines[0].fulfilment == "backorder"
    after = next(line for line in planning.run_plan(cafe).lines if line.sku == "BEANS")
    # 10 on hand are reserved, 490 wait: the order grows by at least what waits.
    assert after.quantity - before.quantity >= 490


def test_one_catalogue_fill_rate_is_a_planning_mode(cafe: UnitOfWork, client: TestClient) -> None:
    plan = planning.run_plan(cafe, catalog_fill_rate=0.95)
    p = plan.parameters
    assert p["catalog_fill_rate"] == 0.95
    assert p["catalog_modelled_fill"] >= 0.95
    assert p["money_saved"] == pytest.approx(
        p["one_target_stock_value"] - p["catalog_stock_value"], abs=0.01
    )
    assert p["money_saved"] >= 0
    assert {line.sku for line in plan.lines} == {"BEANS", "CUPS"}
    with pytest.raises(InvalidInput, match="catalog_fill_rate"):
        planning.run_plan(cafe, catalog_fill_rate=0.95, service_level=0.9)
    with pytest.raises(InvalidInput, match="catalog_fill_rate"):
        planning.run_plan(cafe, catalog_fill_rate=1.0)
    response = client.post("/api/v1/plan-runs", json={"catalog_fill_rate": 0.95})
    assert response.status_code in (200, 201), response.text
    assert response.json()["parameters"]["catalog_fill_rate"] == 0.95
    assert client.post("/api/v1/plan-runs", json={"catalog_fill_rate": 1.5}).status_code == 422


def test_the_warehouse_buys_for_the_stores_it_refills(cafe: UnitOfWork) -> None:
    """Cups sell only at the café (about 60 a week); the warehouse refills it in a day and buys
    from BULK in 14 days. The café's demand passes up: the warehouse plans cups over 14 + 1
    days of the café's demand, and counts the café's stock as its own echelon's."""
    catalog.add_supplier_item(cafe, SupplierItem("BULK", "CUPS", Decimal("0.04"), 14))
    stock.count(cafe, "CUPS", "WH", Decimal(0))
    plan = planning.run_plan(cafe)
    wh = next(line for line in plan.lines if (line.sku, line.location) == ("CUPS", "WH"))
    assert (wh.kind, wh.supplier) == ("purchase", "BULK")
    assert "over 15 days' lead time" in wh.explanation  # 14 from BULK + 1 to the café
    assert wh.figures["reorder_point"] > 100  # two weeks of the café's demand, and more
    assert wh.figures["position"] == 2  # the warehouse's 0 and the café's 2
    # The café holding plenty is stock of the warehouse's echelon: nothing more is bought.
    stock.count(cafe, "CUPS", "CAFE", Decimal(5000))
    again = planning.run_plan(cafe)
    assert all((line.sku, line.location) != ("CUPS", "WH") for line in again.lines)
