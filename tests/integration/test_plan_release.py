"""Releasing a reviewed plan: every order exactly once, failures with their reason, failed
lines fixed and released again (both databases)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import (
    Item,
    ItemKind,
    Location,
    LocationKind,
    Policy,
    Supplier,
    SupplierItem,
)
from leanstock.domain.errors import InvalidInput, InvalidTransition
from leanstock.entrypoints.cli import app
from leanstock.services import catalog, planning, production, purchasing, stock, transfers
from leanstock.services.planning import review


def _line(
    ids: tuple[dict[str, int], dict[str, int]],
    sku: str,
    location: str,
    kind: str,
    quantity: int,
    *,
    supplier_id: int | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    items, places = ids
    today = datetime.now(UTC).date()
    return {
        "item_id": items[sku],
        "location_id": places[location],
        "kind": kind,
        "supplier_id": supplier_id,
        "source_location_id": places[source] if source else None,
        "suggested_quantity": Decimal(quantity),
        "quantity": Decimal(quantity),
        "unit_cost": Decimal(2),
        "order_by": today,
        "need_by": today + timedelta(days=3),
        "status": "proposed",
        "explanation": "below the reorder point",
        "figures": {"late": False},
    }


@pytest.fixture
def approved(uow: UnitOfWork) -> int:
    """An approved plan of a bakery: flour and sugar bought from the mill (one order), bread
    baked at the warehouse from flour, cups sent from the warehouse to the café."""
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_location(uow, Location("CAFE", "Café", LocationKind.STORE))
    catalog.add_item(uow, Item("FLOUR", "Flour", unit="kg", unit_cost=Decimal(1)))
    catalog.add_item(uow, Item("SUGAR", "Sugar", unit="kg", unit_cost=Decimal(1)))
    catalog.add_item(uow, Item("CUPS", "Cups", policy=Policy.TRANSFER))
    catalog.add_item(uow, Item("BREAD", "Bread", kind=ItemKind.MADE, policy=Policy.MAKE_TO_ORDER))
    catalog.add_supplier(uow, Supplier("MILL", "Mill"))
    catalog.add_supplier_item(uow, SupplierItem("MILL", "FLOUR", Decimal(1), 2))
    catalog.add_supplier_item(uow, SupplierItem("MILL", "SUGAR", Decimal(1), 2))
    production.put_bom(uow, "BREAD", [("FLOUR", Decimal("0.5"), Decimal(0))], 1)
    stock.receive(uow, "FLOUR", "WH", Decimal(100))
    stock.receive(uow, "CUPS", "WH", Decimal(50))
    with uow:
        ids = uow.planning.ids()
        mill = uow.catalog.supplier("MILL").id
        run_id = uow.planning.add_plan_run(None, {}, {"orders": 4, "value": "0"})
        uow.planning.add_plan_lines(
            [
                {**row, "run_id": run_id}
                for row in (
                    _line(ids, "FLOUR", "WH", "purchase", 40, supplier_id=mill),
                    _line(ids, "SUGAR", "WH", "purchase", 10, supplier_id=mill),
                    _line(ids, "BREAD", "WH", "production", 20),
                    _line(ids, "CUPS", "CAFE", "transfer", 30, source="WH"),
                )
            ]
        )
        uow.commit()
    planning.approve_plan(uow, run_id)
    return run_id


def _orders(uow: UnitOfWork) -> tuple[int, int, int]:
    """How many purchase, production and transfer orders exist."""
    return (
        purchasing.list_purchase_orders(uow).total,
        production.list_production_orders(uow).total,
        transfers.list_transfer_orders(uow).total,
    )


def _by_sku(plan: planning.PlanRun) -> dict[str, planning.PlanLine]:
    return {line.sku: line for line in plan.lines}


def test_a_release_creates_and_releases_every_order(uow: UnitOfWork, approved: int) -> None:
    done = planning.release_plan(uow, approved)
    assert done.status == "released"
    lines = _by_sku(done)
    assert all(line.status == "released" for line in lines.values())
    # One purchase order for the mill's two lines, released to the supplier.
    assert lines["FLOUR"].released_order == lines["SUGAR"].released_order
    order = purchasing.get_purchase_order(uow, lines["FLOUR"].released_order or "")
    assert order.status == "released"
    assert sorted((ln.sku, ln.quantity) for ln in order.lines) == [
        ("FLOUR", Decimal(40)),
        ("SUGAR", Decimal(10)),
    ]
    baked = production.get_production_order(uow, lines["BREAD"].released_order or "")
    assert baked.status == "released"
    # The transfer is released too, not left a draft, and ships from there.
    moved = transfers.get_transfer_order(uow, lines["CUPS"].released_order or "")
    assert (moved.status, moved.quantity) == ("released", Decimal(30))
    assert transfers.ship_transfer(uow, moved.number).status == "in_transit"
    assert _orders(uow) == (1, 1, 1)
    with pytest.raises(InvalidTransition, match="nothing is left to release"):
        planning.release_plan(uow, approved, retry_failed=True)


def test_a_refused_line_fails_with_its_reason_and_is_released_again_once_fixed(
    uow: UnitOfWork, approved: int
) -> None:
    stock.count(uow, "CUPS", "WH", Decimal(5))  # the transfer can no longer be served
    partly = planning.release_plan(uow, approved)
    assert partly.status == "partially_released"
    assert partly.summary["failed"] == 1
    cups = _by_sku(partly)["CUPS"]
    assert cups.status == "failed"
    assert cups.release_error is not None
    assert "CUPS" in cups.release_error
    assert "WH" in cups.release_error
    assert _orders(uow) == (1, 1, 0)
    with pytest.raises(InvalidTransition, match="--retry-failed"):
        planning.release_plan(uow, approved)
    # Fixed by taking what there is: the failed line can still be edited.
    planning.edit_plan_line(uow, approved, cups.id, Decimal(5))
    again = planning.release_plan(uow, approved, retry_failed=True)
    assert again.status == "released"
    assert _by_sku(again)["CUPS"].release_error is None
    assert _orders(uow) == (1, 1, 1)  # nothing released twice
    moved = transfers.get_transfer_order(uow, _by_sku(again)["CUPS"].released_order or "")
    assert moved.quantity == Decimal(5)
    # A released line is no longer the manager's to change.
    with pytest.raises(InvalidTransition):
        planning.edit_plan_line(uow, approved, cups.id, Decimal(1))


def test_a_release_run_again_after_a_crash_creates_nothing_twice(
    uow: UnitOfWork, approved: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = review._order_for
    calls = 0

    def crash_on_the_second_order(*args: Any) -> str:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("the process died")
        return real(*args)

    monkeypatch.setattr(review, "_order_for", crash_on_the_second_order)
    with pytest.raises(RuntimeError):
        planning.release_plan(uow, approved)
    monkeypatch.setattr(review, "_order_for", real)
    midway = planning.get_plan(uow, approved)
    assert midway.status == "approved"
    assert sum(1 for line in midway.lines if line.status == "released") in (1, 2)
    done = planning.release_plan(uow, approved)
    assert done.status == "released"
    assert _orders(uow) == (1, 1, 1)


def test_two_releases_at_once_create_each_order_once(engine: Engine, approved: int) -> None:
    results: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def release() -> None:
        start.wait()
        try:
            results.append(planning.release_plan(UnitOfWork(engine), approved).status)
        except InvalidTransition as error:  # came after another one finished
            errors.append(error)

    threads = [threading.Thread(target=release) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results, errors
    uow = UnitOfWork(engine)
    assert _orders(uow) == (1, 1, 1)
    plan = planning.get_plan(uow, approved)
    assert plan.status == "released"
    assert len({line.released_order for line in plan.lines}) == 3
    flour = purchasing.get_purchase_order(uow, _by_sku(plan)["FLOUR"].released_order or "")
    assert len(flour.lines) == 2


def test_totals_follow_edits(uow: UnitOfWork) -> None:
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("FLOUR", "Flour", unit="kg"))
    catalog.add_supplier(uow, Supplier("MILL", "Mill"))
    with uow:
        ids = uow.planning.ids()
        mill = uow.catalog.supplier("MILL").id
        run_id = uow.planning.add_plan_run(None, {}, {"orders": 1, "value": "244.00"})
        uow.planning.add_plan_lines(
            [{**_line(ids, "FLOUR", "WH", "purchase", 122, supplier_id=mill), "run_id": run_id}]
        )
        uow.commit()
    line = planning.get_plan(uow, run_id).lines[0]
    edited = planning.edit_plan_line(uow, run_id, line.id, Decimal(20))
    assert edited.summary["value"] == "40.00"
    assert planning.list_plans(uow).items[0].summary["value"] == "40.00"
    catalog.add_item(uow, Item("SACK", "Flour sack"))  # counted in each
    with uow:
        sacks = _line(uow.planning.ids(), "SACK", "WH", "purchase", 3)
        uow.planning.add_plan_lines([{**sacks, "run_id": run_id}])
        uow.commit()
    sack = next(x for x in planning.get_plan(uow, run_id).lines if x.sku == "SACK")
    with pytest.raises(InvalidInput, match="whole"):
        planning.edit_plan_line(uow, run_id, sack.id, Decimal("2.5"))
    planning.drop_plan_line(uow, run_id, sack.id)
    dropped = planning.drop_plan_line(uow, run_id, line.id)
    assert (dropped.summary["orders"], dropped.summary["value"]) == (0, "0.00")


def test_the_command_line_shows_why_a_line_failed_and_exits_non_zero(
    uow: UnitOfWork, approved: int, db_url: str
) -> None:
    stock.count(uow, "CUPS", "WH", Decimal(0))
    runner = CliRunner()
    failed = runner.invoke(app, ["--database", db_url, "plan-release", str(approved)])
    assert failed.exit_code == 1, failed.output
    assert "CUPS" in failed.output
    assert "failed" in failed.output
    assert "available" in failed.output  # the reason: not enough at the source
    assert "--retry-failed" in failed.output
    refused = runner.invoke(app, ["--database", db_url, "plan-release", str(approved)])
    assert refused.exit_code == 2
    stock.receive(uow, "CUPS", "WH", Decimal(30))
    retried = runner.invoke(
        app, ["--database", db_url, "plan-release", str(approved), "--retry-failed"]
    )
    assert retried.exit_code == 0, retried.output
    assert planning.get_plan(uow, approved).status == "released"
    assert _orders(uow) == (1, 1, 1)
