"""Supply from the command line, on both databases: suppliers and their terms, a recipe, a
bake from release to close with its lot, a transfer shipped and received, a PO closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, ItemKind, Location, LocationKind, Supplier
from leanstock.entrypoints.cli import app
from leanstock.entrypoints.cli.app import console
from leanstock.services import catalog, production, purchasing, queries, stock, transfers

runner = CliRunner()


@pytest.fixture
def kitchen(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> UnitOfWork:
    """A warehouse kitchen with flour and salt in stock, bread that keeps a day, a shop."""
    monkeypatch.setattr(console, "width", 250)
    uow = UnitOfWork(engine)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_location(uow, Location("SHOP", "Shop", LocationKind.STORE))
    catalog.add_item(uow, Item("FLOUR", "Flour", unit="kg"))
    catalog.add_item(uow, Item("SALT", "Salt", unit="kg"))
    catalog.add_item(
        uow,
        Item("BREAD", "Bread", kind=ItemKind.MADE, lot_tracked=True, shelf_life_days=1),
    )
    stock.receive(uow, "FLOUR", "WH", Decimal(100))
    stock.receive(uow, "SALT", "WH", Decimal(5))
    return uow


def leanstock(db_url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--database", db_url, *args])
    return result.exit_code, result.output


def test_suppliers_and_their_terms_are_added_from_the_command_line(
    kitchen: UnitOfWork, db_url: str
) -> None:
    assert (
        leanstock(db_url, "add-supplier", "MILL", "Millbrook", "--email", "o@mill.example")[0] == 0
    )
    code, out = leanstock(
        db_url, "add-supplier-item", "MILL", "FLOUR", "--price", "0.9", "--lead-time", "3",
        "--moq", "25", "--pack-size", "25",
    )  # fmt: skip
    assert code == 0, out
    terms = catalog.list_supplier_items(kitchen, supplier="MILL").items
    assert [(t.sku, t.price, t.lead_time_days, t.moq) for t in terms] == [
        ("FLOUR", Decimal("0.9"), 3, Decimal(25))
    ]
    code, out = leanstock(db_url, "supplier-items", "--supplier", "MILL")
    assert "FLOUR" in out
    assert "1 in all" in out
    code, out = leanstock(
        db_url, "add-supplier-item", "NOBODY", "FLOUR", "--price", "1", "--lead-time", "1"
    )
    assert code == 2
    assert "NOBODY" in out


def test_a_bake_goes_from_recipe_to_lot_from_the_command_line(
    kitchen: UnitOfWork, db_url: str
) -> None:
    code, out = leanstock(db_url, "set-bom", "BREAD", "-c", "FLOUR")
    assert code == 2
    assert "SKU:QUANTITY" in out
    code, out = leanstock(
        db_url, "set-bom", "BREAD", "-c", "FLOUR:0.5", "-c", "SALT:0.01:0.05", "--lead-time", "1"
    )
    assert code == 0, out
    assert "FLOUR" in out
    assert production.get_bom(kitchen, "BREAD").lead_time_days == 1
    code, out = leanstock(db_url, "make", "BREAD", "20", "--location", "WH")
    assert code == 0, out
    assert "MO-000001" in out
    assert "draft" in out
    for verb in ("release-production", "start-production"):
        code, out = leanstock(db_url, verb, "MO-000001")
        assert code == 0, out
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    code, out = leanstock(
        db_url, "produce", "MO-000001", "12", "--lot", "B-1", "--expires-on", str(tomorrow)
    )
    assert code == 0, out
    assert "12 made" in out
    code, out = leanstock(db_url, "produce", "MO-000001", "8")  # the batch's own lot
    assert code == 0, out
    lots = {r["lot"]: (r["quantity"], r["expires_on"]) for r in queries.lots(kitchen, "BREAD")}
    assert lots == {"B-1": (Decimal(12), tomorrow), "MO-000001": (Decimal(8), tomorrow)}
    code, out = leanstock(db_url, "close-production", "MO-000001")
    assert code == 0, out
    assert "closed" in out
    assert production.get_production_order(kitchen, "MO-000001").status == "closed"


def test_a_transfer_is_shipped_and_received_from_the_command_line(
    kitchen: UnitOfWork, db_url: str
) -> None:
    moved = transfers.create_transfer_order(kitchen, "FLOUR", "WH", "SHOP", Decimal(10))
    code, out = leanstock(db_url, "transfer-orders")
    assert code == 0, out
    assert moved.number in out
    code, out = leanstock(db_url, "receive-transfer", moved.number)
    assert code == 2
    assert "it cannot be received" in out
    code, out = leanstock(db_url, "ship-transfer", moved.number)
    assert code == 0, out
    assert "in_transit" in out
    code, out = leanstock(db_url, "receive-transfer", moved.number, "--quantity", "9")
    assert code == 0, out
    assert "9 received" in out
    shop = queries.stock(kitchen, sku="FLOUR", location="SHOP")
    assert shop.items[0]["on_hand"] == Decimal(9)


def test_a_purchase_order_is_closed_from_the_command_line(kitchen: UnitOfWork, db_url: str) -> None:
    catalog.add_supplier(kitchen, Supplier("MILL", "Mill"))
    order = purchasing.add_to_draft(
        kitchen, "MILL", [purchasing.NewPurchaseLine("FLOUR", Decimal(50), "WH")]
    )
    code, out = leanstock(db_url, "close-po", order.number)
    assert code == 2  # a draft is released or cancelled, not closed
    purchasing.release(kitchen, order.number)
    assert leanstock(db_url, "receive-po", order.number, "-l", "1:30")[0] == 0
    code, out = leanstock(db_url, "close-po", order.number)
    assert code == 0, out
    assert "closed" in out
