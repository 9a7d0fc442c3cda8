"""The daily work from the command line, on both databases: receiving perishables with their
lot, a customer's requested date against the promise, the newest moves first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, Location, Policy, Supplier, SupplierItem
from leanstock.entrypoints.cli import app
from leanstock.entrypoints.cli.app import console
from leanstock.services import catalog, purchasing, queries, stock

runner = CliRunner()


@pytest.fixture
def dairy(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> UnitOfWork:
    """Milk that keeps 5 days (lot-tracked), bought from a dairy two days away; a released
    purchase order PO-000001 for 40 of it."""
    monkeypatch.setattr(console, "width", 250)
    uow = UnitOfWork(engine)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_supplier(uow, Supplier("DAIRY", "Dairy"))
    catalog.add_item(uow, Item("MILK", "Milk", unit="l", lot_tracked=True, shelf_life_days=5))
    catalog.add_supplier_item(uow, SupplierItem("DAIRY", "MILK", Decimal(1), 2))
    order = purchasing.add_to_draft(
        uow, "DAIRY", [purchasing.NewPurchaseLine("MILK", Decimal(40), "WH")]
    )
    purchasing.release(uow, order.number)
    return uow


def leanstock(db_url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--database", db_url, *args])
    return result.exit_code, result.output


def test_a_lot_tracked_delivery_is_received_with_its_lot_and_expiry(
    dairy: UnitOfWork, db_url: str
) -> None:
    code, out = leanstock(db_url, "receive-po", "PO-000001", "--line", "1:40")
    assert code == 2
    assert "lot" in out
    code, out = leanstock(db_url, "receive-po", "PO-000001", "--line", "1:40", "--lot", "7=L1")
    assert code == 2
    assert "not one of the lines received" in out
    code, out = leanstock(
        db_url, "receive-po", "PO-000001", "--line", "1:40", "--expires-on", "05/12/2026"
    )
    assert code == 2
    assert "YYYY-MM-DD" in out
    expires = datetime.now(UTC).date() + timedelta(days=4)
    code, out = leanstock(
        db_url,
        "receive-po",
        "PO-000001",
        "--line",
        "1:40",
        "--lot",
        "1=M-0412",
        "--expires-on",
        expires.isoformat(),
    )
    assert code == 0, out
    assert "received" in out
    lots = queries.lots(dairy, "MILK", "WH")
    assert [(r["lot"], r["quantity"], r["expires_on"]) for r in lots] == [
        ("M-0412", Decimal(40), expires)
    ]


def test_a_lot_for_every_line_takes_its_expiry_from_the_shelf_life(
    dairy: UnitOfWork, db_url: str
) -> None:
    code, out = leanstock(db_url, "receive-po", "PO-000001", "-l", "1:15", "--lot", "M-1")
    assert code == 0, out
    (lot,) = queries.lots(dairy, "MILK", "WH")
    assert lot["lot"] == "M-1"
    assert lot["expires_on"] == datetime.now(UTC).date() + timedelta(days=5)


def test_a_requested_date_that_cannot_be_met_is_flagged_with_the_reason(
    dairy: UnitOfWork, db_url: str
) -> None:
    catalog.add_item(dairy, Item("CREAM", "Cream", policy=Policy.BUY_TO_ORDER))
    catalog.add_supplier_item(dairy, SupplierItem("DAIRY", "CREAM", Decimal(2), 6))
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    args = ["place-order", "Café", "-l", "CREAM:3", "--location", "WH", "--confirm"]
    code, out = leanstock(db_url, *args, "--requested", tomorrow)
    assert code == 0, out
    assert tomorrow in out
    assert "(late)" in out
    assert f"requested for {tomorrow}" in out
    assert "5 days late" in out
    code, out = leanstock(db_url, *args, "--requested", "tomorrow")
    assert code == 2
    assert "YYYY-MM-DD" in out
    with dairy:
        events = [
            e
            for e in dairy.outbox.events("SO-000001")
            if e["event"] == "sales_order.requested_date_missed"
        ]
    assert len(events) == 1
    assert events[0]["payload"]["line"] == "SO-000001/1"


def test_moves_can_be_listed_newest_first(dairy: UnitOfWork, db_url: str) -> None:
    for n in range(3):
        stock.receive(dairy, "MILK", "WH", Decimal(n + 1), lot=f"L{n}")
    code, out = leanstock(db_url, "moves", "MILK", "--newest", "--limit", "1")
    assert code == 0, out
    assert "L2" in out
    assert "L0" not in out
    assert "1-1 of 3 moves (newest first" in out
    code, out = leanstock(db_url, "moves", "MILK", "--limit", "1")
    assert "L0" in out
    assert "--newest for the latest" in out
