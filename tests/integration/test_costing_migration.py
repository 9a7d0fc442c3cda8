"""The costing migration carries existing stock forward: it gets its item's unit cost."""

from __future__ import annotations

from decimal import Decimal

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from leanstock.adapters.db.engine import alembic_config
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, Location
from leanstock.services import catalog, stock, valuation


def costing_revision(engine: Engine) -> tuple[str, str]:
    """(the revision that adds move costs, the one before it), found by name, not number."""
    scripts = ScriptDirectory.from_config(alembic_config(engine))
    for script in scripts.walk_revisions():
        if "add_move_costs" in script.path:
            assert isinstance(script.down_revision, str)
            return script.revision, script.down_revision
    raise AssertionError("no costing migration")


def test_stock_from_before_costing_is_valued_at_its_items_unit_cost(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("CUP", "Paper cup", unit_cost=Decimal("0.25")))
    stock.receive(uow, "CUP", "WH", Decimal(40), unit_cost=Decimal(9))
    stock.count(uow, "CUP", "WH", Decimal(44), unit_cost=Decimal(9))
    stock.ship(uow, "CUP", "WH", Decimal(4))
    revision, before = costing_revision(engine)
    command.downgrade(alembic_config(engine), before)  # the costs are gone, the moves stay
    command.upgrade(alembic_config(engine), "head")
    (line,) = valuation.stock_value(uow).lines
    assert (line.quantity, line.value) == (Decimal(40), Decimal(10))  # 40 × 0.25
    assert revision


def test_items_from_before_the_flag_keep_their_units_whole_number_rule(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    catalog.add_item(uow, Item("CUP", "Paper cup", unit="each"))
    catalog.add_item(uow, Item("TEA", "Tea", unit="kg"))
    catalog.add_item(uow, Item("CHAIR", "Chair", unit="kg", divisible=False))
    _, before = costing_revision(engine)
    command.downgrade(alembic_config(engine), before)  # the flag is gone
    command.upgrade(alembic_config(engine), "head")
    with uow:
        flags = {sku: uow.catalog.item(sku).value.divisible for sku in ("CUP", "TEA", "CHAIR")}
    # The flag is read from the unit: a kg divides, an "each" does not (CHAIR's own word is
    # lost with the column, as any downgrade loses what it drops).
    assert flags == {"CUP": False, "TEA": True, "CHAIR": True}
