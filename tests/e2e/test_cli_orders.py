"""Order commands as a person uses them: lists, one order with its promise and pegs."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leanstock.adapters.db.engine import make_engine, upgrade
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, Location, Policy, Supplier, SupplierItem
from leanstock.entrypoints.cli import app
from leanstock.entrypoints.cli.app import console
from leanstock.services import catalog, orders

runner = CliRunner()


def leanstock(db: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--database", f"sqlite:///{db}", *args])
    return result.exit_code, result.output


def test_orders_show_their_lines_promises_and_the_supply_they_pulled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "width", 220)
    db = tmp_path / "shop.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    uow = UnitOfWork(engine)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_supplier(uow, Supplier("MILL", "Mill"))
    catalog.add_item(uow, Item("FLOUR", "Flour", unit="kg", policy=Policy.BUY_TO_ORDER))
    catalog.add_supplier_item(uow, SupplierItem("MILL", "FLOUR", Decimal(1), 3, moq=Decimal(25)))
    placed = orders.place_order(
        uow, "Mrs Patel", [orders.NewLine("FLOUR", Decimal(4), "WH")], confirm=True
    )
    engine.dispose()
    code, out = leanstock(db, "orders")
    assert code == 0
    assert placed.number in out
    assert "Mrs Patel" in out
    code, out = leanstock(db, "order", placed.number)
    assert code == 0
    assert "purchase" in out
    assert "PO-000001/1" in out
    assert str(placed.lines[0].promise_date) in out
    code, out = leanstock(db, "purchase-orders")
    assert code == 0
    assert "MILL" in out
    assert "25" in out
    code, out = leanstock(db, "order", "SO-424242")
    assert code == 2
    assert "No sales order SO-424242" in out


def test_an_order_is_placed_confirmed_received_and_shipped_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "width", 220)
    db = tmp_path / "shop.db"
    assert leanstock(db, "init")[0] == 0
    assert leanstock(db, "add-location", "WH", "Warehouse")[0] == 0
    engine = make_engine(f"sqlite:///{db}")
    uow = UnitOfWork(engine)
    catalog.add_supplier(uow, Supplier("MILL", "Mill"))
    catalog.add_item(uow, Item("FLOUR", "Flour", unit="kg", policy=Policy.BUY_TO_ORDER))
    catalog.add_supplier_item(uow, SupplierItem("MILL", "FLOUR", Decimal(1), 3))
    engine.dispose()
    code, out = leanstock(db, "place-order", "Ann", "--line", "FLOUR:4", "--location", "WH")
    assert code == 0
    assert "SO-000001 draft" in out
    code, out = leanstock(db, "confirm-order", "SO-000001")
    assert code == 0
    assert "PO-000001/1" in out
    code, out = leanstock(db, "ship-order", "SO-000001")
    assert code == 2
    assert "nothing reserved" in out
    assert leanstock(db, "release-po", "PO-000001")[0] == 0
    code, out = leanstock(db, "receive-po", "PO-000001", "--line", "1:4")
    assert code == 0
    assert "SO-000001/1" in out
    code, out = leanstock(db, "ship-order", "SO-000001")
    assert code == 0
    assert "shipped" in out
    code, out = leanstock(db, "place-order", "Bo", "--line", "FLOUR", "--location", "WH")
    assert code == 2
    assert "SKU:QUANTITY" in out


def test_returns_quarantine_and_expiry_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "width", 220)
    db = tmp_path / "shop.db"
    assert leanstock(db, "init")[0] == 0
    assert leanstock(db, "add-location", "WH", "Warehouse")[0] == 0
    assert leanstock(db, "add-item", "MUG", "Mug")[0] == 0
    assert leanstock(db, "receive", "MUG", "WH", "3")[0] == 0
    assert leanstock(db, "place-order", "Ann", "--line", "MUG:2", "--location", "WH")[0] == 0
    assert leanstock(db, "confirm-order", "SO-000001")[0] == 0
    assert leanstock(db, "ship-order", "SO-000001")[0] == 0
    code, out = leanstock(db, "return-order", "SO-000001", "1", "1", "--to", "quarantine")
    assert code == 0, out
    code, out = leanstock(db, "return-order", "SO-000001", "1", "5")
    assert code == 2
    assert "1 shipped and not returned" in out
    code, out = leanstock(db, "quarantine", "release", "MUG", "1", "WH", "--note", "fine")
    assert code == 0, out
    assert "QUARANTINE" in out
    code, out = leanstock(db, "stock", "--sku", "MUG")
    assert "2" in out
    code, out = leanstock(db, "quarantine", "scrap", "MUG", "1", "damage")
    assert code == 2  # nothing left in quarantine
    code, out = leanstock(db, "expire")
    assert code == 0, out
    assert "Nothing had expired" in out
    code, out = leanstock(db, "expire", "--today", "2999-01-01")
    assert code == 2
    assert "in the future" in out
