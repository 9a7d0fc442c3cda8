"""The customers migration carries existing orders forward: each keeps the name it was placed
with, as a walk-in sale, and new orders can refer to customer records."""

from __future__ import annotations

from decimal import Decimal

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from leanstock.adapters.db.engine import alembic_config
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, Location
from leanstock.domain.customers import Customer
from leanstock.services import catalog, customers, orders, stock


def before_customers(engine: Engine) -> str:
    """The revision before the one that adds customers, found by name, not number."""
    scripts = ScriptDirectory.from_config(alembic_config(engine))
    for script in scripts.walk_revisions():
        if "add_customers" in script.path:
            assert isinstance(script.down_revision, str)
            return script.down_revision
    raise AssertionError("no customers migration")


def test_orders_from_before_customers_keep_their_names_and_ship(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("CUP", "Paper cup"))
    stock.receive(uow, "CUP", "WH", Decimal(10))
    old = orders.place_order(
        uow, "Bistro Bella", [orders.NewLine("CUP", Decimal(3), "WH")], confirm=True
    )
    command.downgrade(alembic_config(engine), before_customers(engine))
    command.upgrade(alembic_config(engine), "head")
    carried = orders.get_order(uow, old.number)
    assert (carried.customer, carried.customer_code, carried.lines[0].reserved) == (
        "Bistro Bella",
        None,
        Decimal(3),
    )
    assert orders.ship_order(uow, old.number).status == "shipped"
    customers.add_customer(uow, Customer("BISTRO", "Bistro Bella"))
    new = orders.place_order(
        uow, None, [orders.NewLine("CUP", Decimal(1), "WH")], customer_code="BISTRO"
    )
    listed = orders.list_orders(uow, customer_code="BISTRO").items
    assert [r["number"] for r in listed] == [new.number]
    assert orders.list_orders(uow, customer="Bistro Bella").total == 2
